/**
 * The parts of a `SupabaseClient` (from `@supabase/supabase-js` v2) the transport uses, as a
 * structural type: the app passes its own client, whatever its `Database` type parameter, and
 * this package never imports supabase-js at runtime.
 *
 * @module
 */

/** The error object supabase-js returns from `rpc` (a PostgREST error body, or a network failure with status 0). */
export interface PostgrestErrorLike {
  /** SQLSTATE (`P0001`, `42501`, ...) or a PostgREST code (`PGRST202`, ...); `''` for a network failure. */
  code?: string;
  /** Human-readable message. */
  message: string;
  /** More detail, when the server gave some. */
  details?: string | null;
  /** A hint, when the server gave one. */
  hint?: string | null;
}

/** What awaiting an `rpc` call gives. */
export interface RpcResultLike {
  /** The function's result (parsed JSON), `null` on error or for a void function. */
  data: unknown;
  /** The error, or `null` on success. */
  error: PostgrestErrorLike | null;
  /** HTTP status; 0 when the request never got an answer. */
  status: number;
}

/** The builder `rpc` returns: awaitable, and abortable. */
export interface RpcBuilderLike extends PromiseLike<RpcResultLike> {
  /** Aborts the request when `signal` fires. */
  abortSignal(signal: AbortSignal): PromiseLike<RpcResultLike>;
}

/** A Supabase Auth session, as `onAuthStateChange` hands it over. */
export interface AuthSessionLike {
  /** The access token (a JWT with `sub` and `session_id`). */
  access_token: string;
  /** The signed-in user. */
  user: { id: string };
}

/** A Realtime channel, as `client.channel()` returns it. */
export interface RealtimeChannelLike {
  /** Listens to broadcast messages of one event. */
  on(
    type: 'broadcast',
    filter: { event: string },
    callback: (message: { event?: string; payload?: unknown }) => void,
  ): RealtimeChannelLike;
  /** Joins the channel; `callback` hears every status change, including each rejoin. */
  subscribe(callback?: (status: string, error?: Error) => void): RealtimeChannelLike;
}

/** The part of `client.auth` the transport uses. */
export interface SupabaseAuthLike {
  /** Calls `callback` on every auth event (first `INITIAL_SESSION`). */
  onAuthStateChange(callback: (event: string, session: AuthSessionLike | null) => void): {
    data: { subscription: { unsubscribe(): void } };
  };
  /** Signs out; `scope: 'local'` ends this device's session only. */
  signOut?(options?: { scope?: 'global' | 'local' | 'others' }): PromiseLike<unknown>;
}

/** The part of `client.realtime` the transport uses. */
export interface SupabaseRealtimeLike {
  /** Sets the token channels join with; without an argument, the current session's. */
  setAuth(token?: string | null): Promise<void>;
}

/** An error of Storage (storage-js `StorageError`): `status` is absent when no answer came. */
export interface StorageErrorLike {
  /** Human-readable message. */
  message: string;
  /** HTTP status of the answer, when there was one. */
  status?: number | undefined;
}

/** What awaiting a Storage call gives. */
export interface StorageResultLike<T> {
  /** The result, `null` on error. */
  data: T | null;
  /** The error, or `null` on success. */
  error: StorageErrorLike | null;
}

/**
 * One bucket's file API, as `client.storage.from(bucket)` returns it (storage-js
 * `StorageFileApi`). Besides `remove`, the adapter sends its resumable uploads and ranged
 * downloads through the API's own base URL and authenticated fetch (storage-js has no method
 * for them), so it needs the real storage-js object.
 */
export interface StorageFileApiLike {
  /** Removes objects (`DELETE /storage/v1/object/<bucket>`, `{ prefixes }`). */
  remove(paths: string[]): PromiseLike<StorageResultLike<unknown>>;
}

/** The part of `client.storage` the transport uses. */
export interface SupabaseStorageLike {
  /** The file API of one bucket. */
  from(bucket: string): StorageFileApiLike;
}

/** The parts of a `SupabaseClient` the transport uses. */
export interface SupabaseClientLike {
  /** Calls a Postgres function through PostgREST (`POST /rest/v1/rpc/<fn>`). */
  rpc(fn: string, args?: Record<string, unknown>): RpcBuilderLike;
  /** Supabase Auth. */
  auth: SupabaseAuthLike;
  /** The Realtime client. */
  realtime: SupabaseRealtimeLike;
  /** Creates (or returns) a Realtime channel. */
  channel(name: string, options?: { config?: { private?: boolean } }): RealtimeChannelLike;
  /** Leaves and removes a channel. */
  removeChannel(channel: RealtimeChannelLike): Promise<unknown>;
  /** Supabase Storage (assets). */
  storage?: SupabaseStorageLike;
}
