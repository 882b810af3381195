/**
 * `@syncline/sync-core`: the framework-agnostic local-first sync engine.
 *
 * @packageDocumentation
 */

export type { ClaimLocalData, LocalDataClaim } from './account/claim.js';
export type {
  AnySyncClient,
  CollectionName,
  CollectionsOf,
  RecordOf,
  SyncClient,
  SyncTransaction,
  TabRole,
} from './api/client.js';
export type { SyncEvents } from './api/events.js';
export type { SyncClientOptions } from './api/options.js';
export type { ReplicationOptions } from './api/replication-options.js';
export type { AssetMeta, AssetStore } from './assets/asset-store.js';
export { indexedDbAssetStore, kvAssetStore, memoryAssetStore } from './assets/asset-store.js';
export {
  ASSET_DELIVERY_KIND,
  type AssetFile,
  type AssetProvider,
  type AssetsApi,
  type RequestAssetOptions,
  type SendAssetOptions,
} from './assets/assets-api.js';
export type { TransferProgress } from './assets/progress.js';
export { Sha256, type Sha256Options, sha256Hex } from './assets/sha256.js';
export type { AssetSource } from './assets/transfer-io.js';
export { createSyncClient } from './client/create-sync-client.js';
export type { HlcOptions, HlcParts } from './clock/hlc.js';
export { compareHlc, formatHlc, HybridLogicalClock, isHlc, parseHlc } from './clock/hlc.js';
export * from './conflict/resolvers.js';
export * from './conflict/types.js';
export type { DeliveriesApi, SendDeliveryOptions } from './deliveries/client-deliveries.js';
export type { DeliveryHandler, IncomingDelivery } from './deliveries/inbox.js';
export type { DeliveryListenerOptions } from './deliveries/listeners.js';
export { defaultLocks, type LockManagerLike, localLocks } from './deliveries/locks.js';
export {
  otherSessions,
  type ScopeMembersSpec,
  scopeMembers,
  sessions,
  type TargetSpec,
} from './deliveries/targets.js';
export { alwaysOnline, browserOnlineSource, createEnvironment } from './env/environment.js';
export type { OnlineSource, SyncEnvironment } from './env/types.js';
export * from './errors/sync-error.js';
export * from './observe/index.js';
export { isClientId, isCollection, isRecordId, isScope, isUuid } from './protocol/formats.js';
export * from './protocol/limits.js';
export * from './protocol/server-info.js';
export * from './protocol/types.js';
// The answer validators only: the request validators are the server's, in
// `@syncline/sync-core/protocol`, so they stay out of an app's bundle.
export * from './protocol/validate.js';
export type { BackoffOptions } from './replication/backoff.js';
export { fullJitterDelay } from './replication/backoff.js';
export type { DeadLetter } from './replication/dead-letter.js';
export type { RetryOptions } from './replication/retryer.js';
export type { SyncNowOptions, SyncNowResult } from './replication/sync-now.js';
export type { InvalidRecord, RecordIssue } from './schema/check-schema.js';
export type {
  CollectionDeclarations,
  CollectionOptions,
  DeclaredRecord,
  FieldOf,
  OrJsonObject,
  RecordsOf,
  TypedCollectionOptions,
  UntypedCollections,
} from './schema/collections.js';
export { collection } from './schema/collections.js';
export type * from './schema/standard-schema.js';
export type { SessionsApi, SessionsEvents } from './sessions/client-sessions.js';
export { isSessionRevoked } from './sessions/client-sessions.js';
export type { TargetingOptions } from './sessions/targeting-options.js';
export type { RecordSyncState, SyncState, SyncStatus } from './status/types.js';
export type { IndexedDbKeyRangeClass, IndexedDbStorageOptions } from './storage/indexeddb.js';
export { indexedDbStorage } from './storage/indexeddb.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export { memoryStorage } from './storage/memory.js';
export * from './storage/types.js';
export type { QueryOptions, SortDirection, ViewRecord } from './store/query.js';
export type { TabLockManager } from './tabs/leadership.js';
export { type MultiTab, multiTab } from './tabs/multi-tab.js';
export type { TabsOptions } from './tabs/tab-link.js';
export * from './transport/session-source.js';
export * from './transport/types.js';
