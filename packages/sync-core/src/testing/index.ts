/**
 * `@syncline/sync-core/testing`: an in-memory protocol server, a fault-injecting transport
 * wrapper and the deterministic simulator, for apps' tests and syncline's own.
 *
 * @packageDocumentation
 */

export * from './conformance/index.js';
export type { AppliedLogEntry } from './memory-push.js';
export {
  createMemoryServer,
  type MemoryServer,
  type MemoryServerOptions,
  type MemoryServerStats,
  type PurgeOptions,
} from './memory-server.js';
export {
  type ConnectOptions,
  MemoryTransport,
  type MemoryTransportHost,
} from './memory-transport.js';
export { createRandom, type Random, randomInt } from './random.js';
export * from './sim/index.js';
export {
  type FaultCounts,
  type FaultEnv,
  type Faults,
  type FaultyTransport,
  type OneShotFault,
  withFaults,
} from './with-faults.js';
