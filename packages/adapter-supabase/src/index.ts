/**
 * `@syncline/adapter-supabase`: syncline over the app's own Supabase project. RPC push and
 * pull with the reference server's revision checks, Realtime pokes on private channels,
 * sessions from Supabase Auth. The SQL ships in the package's `sql/` folder.
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
} from './storage-assets.js';
export {
  type SupabaseTransport,
  type SupabaseTransportOptions,
  supabaseTransport,
} from './supabase-transport.js';
