/**
 * A `SyncTransport` over the app's own `SupabaseClient`: push and pull are the RPC functions
 * `syncline_push` and `syncline_pull` (one PostgREST transaction each, with the reference
 * server's revision checks inside), pokes come over Realtime, and who is signed in follows
 * Supabase Auth.
 *
 * @module
 */
import {
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SyncError,
  type SyncTransport,
  validatePullResponse,
  validatePushResponse,
} from '@syncline/sync-core';
import { type SupabaseSessionSource, supabaseSessionSource } from './auth-session-source.js';
import type { SupabaseClientLike } from './client-like.js';
import { subscribeToPokes } from './realtime-pokes.js';
import { callRpc, validatedAnswer } from './rpc-call.js';

/** Options of {@link supabaseTransport}. */
export interface SupabaseTransportOptions {
  /**
   * The app's `SupabaseClient` (from `createClient`), signed in through `client.auth`.
   * @example
   * ```ts
   * const client = createClient(SUPABASE_URL, SUPABASE_ANON_KEY);
   * const transport = supabaseTransport({ client });
   * ```
   */
  client: SupabaseClientLike;
  /**
   * Pokes over Supabase Realtime (private channels, one per scope). With `false`, other
   * devices' changes arrive on the client's periodic pull only.
   * @default true
   */
  realtime?: boolean;
  /**
   * Where Realtime problems go (a channel the user may not join, a malformed poke) and a
   * session without a `session_id` claim. They never stop syncing: pulls still run.
   * @default console.warn
   */
  onRealtimeError?: (error: Error) => void;
}

/** The transport, with `stop` to release its auth listener. */
export interface SupabaseTransport extends SyncTransport {
  /** Who is signed in, from `client.auth.onAuthStateChange`. */
  readonly session: SupabaseSessionSource;
  /** Stops following auth events. Call it when the client is discarded. */
  stop(): void;
}

/**
 * Creates the transport.
 *
 * @example
 * ```ts
 * import { createClient } from '@supabase/supabase-js';
 * import { createSyncClient } from '@syncline/sync-core';
 * import { supabaseTransport } from '@syncline/adapter-supabase';
 *
 * const supabase = createClient(SUPABASE_URL, SUPABASE_ANON_KEY);
 * const sync = createSyncClient({ transport: supabaseTransport({ client: supabase }) });
 * await sync.start();
 * ```
 */
export function supabaseTransport(options: SupabaseTransportOptions): SupabaseTransport {
  const { client } = options;
  if (typeof client?.rpc !== 'function' || typeof client.auth?.onAuthStateChange !== 'function') {
    throw new SyncError(
      'rejected',
      'supabaseTransport: `client` must be a SupabaseClient from @supabase/supabase-js v2',
      { code: 'invalid_options' },
    );
  }
  const onError =
    options.onRealtimeError ?? ((error: Error) => console.warn('[syncline]', error.message));
  const session = supabaseSessionSource(client, onError);

  const call = callRpc;
  const validated = <T>(validate: () => T): T => validatedAnswer('the syncline SQL', validate);

  const transport: SupabaseTransport = {
    session,
    async push(request: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      const data = await call(
        client.rpc('syncline_push', { client_id: request.clientId, mutations: request.mutations }),
        signal,
      );
      return validated(() => validatePushResponse(data, request));
    },
    async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
      const data = await call(
        client.rpc('syncline_pull', {
          scope: request.scope,
          checkpoint: request.checkpoint,
          ...(request.limit === undefined ? {} : { max_changes: request.limit }),
        }),
        signal,
      );
      return validated(() => validatePullResponse(data, request));
    },
    stop: () => session.stop(),
  };
  if (options.realtime !== false) {
    transport.subscribe = (scopes, onPoke, onConnect) =>
      subscribeToPokes({ client, scopes, onPoke, onConnect, onError, session });
  }
  return transport;
}
