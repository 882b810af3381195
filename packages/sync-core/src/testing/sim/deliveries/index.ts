/**
 * The deterministic simulation of session targeting: `simulateDeliveries(options)`.
 *
 * @module
 */
export type { AssetBackend, DeliveryBackend, MemoryDeliveryBackendOptions } from './backend.js';
export { memoryDeliveryBackend } from './backend.js';
export type { DeliveryRule, DeliveryViolation } from './model.js';
export {
  ASSET_REQUIRED_COUNTERS,
  DELIVERY_REQUIRED_COUNTERS,
  type DeliverySimulationResult,
  type SimulateDeliveriesOptions,
  simulateDeliveries,
} from './simulate-deliveries.js';
