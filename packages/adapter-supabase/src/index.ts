/**
 * `@syncline/adapter-supabase`: syncline over the app's own Supabase project. RPC push and
 * pull with the reference server's revision checks, Realtime pokes on private channels,
 * sessions from Supabase Auth. The SQL ships in the package's `sql/` folder. Or, with
 * `supabaseTablesTransport` and `sql/tables/`, sync the app's own tables as they are.
 *
 * @packageDocumentation
 */
export {
  authSessionOf,
  jwtClaims,
  type SupabaseSessionSource,
  supabaseSessionSource,
} from './auth-session-source.js';
export type {
  AuthSessionLike,
  PostgrestErrorLike,
  RealtimeChannelLike,
  RpcBuilderLike,
  RpcResultLike,
  StorageErrorLike,
  StorageFileApiLike,
  StorageResultLike,
  SupabaseAuthLike,
  SupabaseClientLike,
  SupabaseRealtimeLike,
  SupabaseStorageLike,
} from './client-like.js';
export { syncErrorFromPostgrest } from './errors.js';
export { type PokeSubscription, pokeChannelName, subscribeToPokes } from './realtime-pokes.js';
export {
  DEFAULT_ASSET_BUCKET,
  type SupabaseAssetOptions,
  syncErrorFromStorage,
  type UploadUrlStore,
} from './storage-assets.js';
export {
  type SupabaseTransport,
  type SupabaseTransportOptions,
  supabaseTransport,
} from './supabase-transport.js';
export type {
  SupabaseTableOptions,
  SupabaseTablesTransportOptions,
} from './tables-options.js';
export { type SupabaseTablesTransport, supabaseTablesTransport } from './tables-transport.js';
