/**
 * `@syncline/sync-core`: the framework-agnostic local-first sync engine.
 *
 * @packageDocumentation
 */

export type {
  ConflictDecision,
  KeepServerDecision,
  SyncClient,
  SyncTransaction,
  WriteDecision,
} from './client/api.js';
export { createSyncClient } from './client/sync-client.js';
export * from './client/types.js';
export type { HlcOptions, HlcParts } from './clock/hlc.js';
export { compareHlc, formatHlc, HybridLogicalClock, isHlc, parseHlc } from './clock/hlc.js';
export * from './conflict/resolvers.js';
export * from './conflict/types.js';
export { alwaysOnline, browserOnlineSource, createEnvironment } from './env/environment.js';
export * from './errors/sync-error.js';
export * from './observe/index.js';
export * from './protocol/types.js';
export * from './protocol/validate.js';
export type { IndexedDbKeyRangeClass, IndexedDbStorageOptions } from './storage/indexeddb.js';
export { indexedDbStorage } from './storage/indexeddb.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export { memoryStorage } from './storage/memory.js';
export * from './storage/types.js';
export type { QueryOptions, SortDirection, ViewRecord } from './store/query.js';
export * from './transport/session-source.js';
export * from './transport/types.js';
