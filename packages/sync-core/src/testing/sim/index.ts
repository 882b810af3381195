/**
 * The deterministic simulator: `simulate(options)` and what it reports.
 *
 * @module
 */
export { type MemoryBackendOptions, memoryBackend, type SimBackend } from './backend.js';
export { INVARIANT_NAMES, type InvariantId, type Violation } from './checks.js';
export { SimCounters } from './counters.js';
export type { ClientFactory, SimStorageLife } from './device.js';
export { formatCounters, formatFailure, REQUIRED_COUNTERS } from './report.js';
export { SimScheduler, type SimTimer } from './scheduler.js';
export { type SimulateOptions, type SimulationResult, simulate } from './simulate.js';
export type { FaultLevel } from './swarm.js';
export {
  type AppliedMutation,
  type TransportBackendOptions,
  transportBackend,
} from './transport-backend.js';
