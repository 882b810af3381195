/**
 * `@syncline/server`: the reference sync server. A standard fetch handler over a PGlite
 * (embedded) or PostgreSQL store, with LISTEN/NOTIFY pokes and JWT auth.
 *
 * @packageDocumentation
 */
export {
  BlobLimitError,
  type BlobStore,
  type FileBlobStoreOptions,
  fileBlobStore,
} from './assets/blob-store.js';
export { type DevAuth, type DevAuthOptions, type DevToken, devAuth } from './auth/dev-auth.js';
export { claimsToAuth, type JwtAuthOptions, jwtAuth } from './auth/jwt-auth.js';
export {
  type Authenticate,
  type AuthenticatedCaller,
  type AuthorizeScope,
  bearerToken,
  ownScopeOnly,
  type ScopeAction,
} from './auth/types.js';
export {
  type CorsOptions,
  createSyncHandler,
  type ServerLimits,
  type SyncHandler,
  type SyncHandlerOptions,
} from './handler.js';
export type { StreamTimers } from './http/event-stream.js';
export { consoleLogger, type Logger } from './http/problem.js';
export type { RateLimitOptions } from './http/rate-limiter.js';
export type { StreamEnd, StreamEndCode } from './http/stream-access.js';
export {
  DEFAULT_TARGETING_LIMITS,
  type ListScopeMembers,
  membersMayUse,
  ownScopeMembers,
  type TargetingLimits,
} from './http/targeting-routes.js';
export type { SqlExecutor, SqlQueryable } from './store/executor.js';
export { MIGRATIONS, type Migration, runMigrations } from './store/migrations.js';
export {
  type PgliteDatabase,
  type PgliteQueryable,
  type PgliteStoreOptions,
  pgliteExecutor,
  pgliteStore,
} from './store/pglite-store.js';
export {
  type PostgresStoreOptions,
  postgresExecutor,
  postgresStore,
} from './store/postgres-store.js';
export { createSqlStore, type SqlStoreOptions, type SqlStoreTestHooks } from './store/sql-store.js';
export type {
  AcceptedPushEntry,
  AuthContext,
  ChangesAfter,
  CommittedChanges,
  MutationPurgeResult,
  PullPageText,
  PurgeResult,
  RefusedPushEntry,
  StorePushEntry,
  StorePushRequest,
  SyncStore,
} from './store/types.js';
export { DEFAULT_TARGETING_POLICY } from './targeting/sql-targeting-store.js';
export { type SweeperOptions, type SweepReport, startSweeper } from './targeting/sweeper.js';
export {
  completionCondition,
  isLive,
  mayReceive,
  transferIsLive,
} from './targeting/targeting-sql.js';
export type {
  AssetCopy,
  AssetUpload,
  BeginUploadByIdOutcome,
  BeginUploadOutcome,
  CreateDeliveryOutcome,
  FinishUploadOutcome,
  GrowUploadOutcome,
  HeartbeatOutcome,
  RevocationOutcome,
  SweepResult,
  TargetingEvent,
  TargetingPolicy,
  TargetingStore,
  TransferOutcome,
} from './targeting/types.js';
