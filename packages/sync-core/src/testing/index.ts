/**
 * `@syncline/sync-core/testing`: an in-memory protocol server, a fault-injecting transport
 * wrapper and the deterministic simulator, for apps' tests and syncline's own.
 *
 * @packageDocumentation
 */

export * from './conformance/index.js';
export { type MemoryAssetLimits, MemoryAssets, type MemoryAssetsHost } from './memory-assets.js';
export type { AppliedLogEntry } from './memory-push.js';
export {
  createMemoryServer,
  type MemoryServer,
  type MemoryServerOptions,
  type MemoryServerStats,
  type PurgeOptions,
} from './memory-server.js';
export {
  type MemorySessionOptions,
  MemorySessionServer,
  type MemorySessionServerHost,
} from './memory-session-server.js';
export type { MemoryCall, MemorySessionRoutes } from './memory-session-transport.js';
export {
  MemorySessions,
  type MemorySessionsHost,
  type MemorySessionsOptions,
} from './memory-sessions.js';
export {
  type ConnectOptions,
  MemoryTransport,
  type MemoryTransportHost,
} from './memory-transport.js';
export { createRandom, type Random, randomInt } from './random.js';
export * from './sim/deliveries/index.js';
export * from './sim/index.js';
export {
  type FaultCounts,
  type FaultEnv,
  type Faults,
  type FaultyTransport,
  type OneShotFault,
  withFaults,
} from './with-faults.js';
