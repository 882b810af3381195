/**
 * A `SyncTransport` over the app's own `SupabaseClient`: push and pull are the RPC functions
 * `syncline_push` and `syncline_pull` (one PostgREST transaction each, with the reference
 * server's revision checks inside), pokes come over Realtime, and who is signed in follows
 * Supabase Auth.
 *
 * @module
 */
import {
  type DeliveryTransport,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  type SessionTransport,
  SyncError,
  type SyncTransport,
  type TransferTransport,
} from '@syncline/sync-core';
import { type SupabaseSessionSource, supabaseSessionSource } from './auth-session-source.js';
import type { SupabaseClientLike } from './client-like.js';
import { subscribeToPokes } from './realtime-pokes.js';
import { callRpc } from './rpc-call.js';
import { supabaseSessionParts } from './session-parts.js';
import type { SupabaseAssetOptions } from './storage-assets.js';
import { subscribeToUserHints } from './user-hints.js';

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
   * Pokes over Supabase Realtime (private channels, one per scope), and delivery, session and
   * transfer hints on the user's private channel `syncline-user:<user id>`. With `false`, other
   * devices' changes, deliveries, session changes and transfer changes arrive on the client's
   * periodic pull and catch-up poll only.
   * @default true
   */
  realtime?: boolean;
  /**
   * Where Realtime problems go (a channel the user may not join, a malformed poke) and a
   * session without a `session_id` claim. They never stop syncing: pulls still run.
   * @default console.warn
   */
  onRealtimeError?: (error: Error) => void;
  /**
   * Assets in Supabase Storage (needs `sql/0003_syncline_sessions.sql`), and with them
   * transfers on request (`sql/0005_syncline_transfers.sql`). `false` leaves both parts out.
   * @default { bucket: 'syncline-assets' }
   */
  assets?: SupabaseAssetOptions | false;
  /**
   * Least milliseconds between two clean-ups of released assets, which run on the
   * pending-deliveries poll (see `releaseAssets`).
   * @default 60000
   */
  releaseIntervalMs?: number;
}

/** The transport, with `stop` to release its auth listener. */
export interface SupabaseTransport extends SyncTransport {
  /** Who is signed in, from `client.auth.onAuthStateChange`. */
  readonly session: SupabaseSessionSource;
  /** Stops following auth events. Call it when the client is discarded. */
  stop(): void;
  /** Device sessions (`syncline_heartbeat`, `syncline_sessions`, `syncline_revoke_sessions`). */
  readonly sessions: SessionTransport;
  /** Deliveries (`syncline_send_delivery`, `syncline_pending_deliveries`, `syncline_ack_delivery`). */
  readonly deliveries: DeliveryTransport;
  /**
   * Transfers on request (`syncline_transfer_create`, `syncline_transfers`, `syncline_transfer`,
   * `syncline_transfer_progress`; needs `sql/0005_syncline_transfers.sql`). Present with the
   * asset part only: the file of a transfer travels through Storage.
   */
  readonly transfers?: TransferTransport;
  /**
   * Removes the signed-in user's Storage objects that no live delivery needs any more (expired
   * deliveries, uploads never sent); resolves with how many were listed. It also runs on the
   * pending-deliveries poll, at most every `releaseIntervalMs`.
   */
  releaseAssets(signal?: AbortSignal): Promise<number>;
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

  const parts = supabaseSessionParts({
    client,
    session,
    assets: options.assets === false ? {} : (options.assets ?? {}),
    releaseIntervalMs: options.releaseIntervalMs ?? 60_000,
    onError,
    now: () => Date.now(),
  });
  const transport: SupabaseTransport = {
    revisions: 'scope',
    session,
    sessions: parts.sessions,
    deliveries: parts.deliveries,
    ...(options.assets === false || parts.assets === undefined
      ? {}
      : { assets: parts.assets, transfers: parts.transfers }),
    releaseAssets: parts.releaseAssets,
    async push(request: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      const data = await callRpc(
        client.rpc('syncline_push', { client_id: request.clientId, mutations: request.mutations }),
        signal,
      );
      // Checked once, by the client (sync-core's replication/check-answers.ts).
      return data as PushResponse;
    },
    async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
      const data = await callRpc(
        client.rpc('syncline_pull', {
          scope: request.scope,
          checkpoint: request.checkpoint,
          ...(request.limit === undefined ? {} : { max_changes: request.limit }),
        }),
        signal,
      );
      // Checked once, by the client (sync-core's replication/check-answers.ts).
      return data as PullResponse;
    },
    stop: () => session.stop(),
  };
  if (options.realtime !== false) {
    transport.subscribe = ({ scopes, onPoke, onConnect }) =>
      subscribeToPokes({ client, scopes, onPoke, onConnect, onError, session });
    transport.sessionEvents = (listener, onConnect) =>
      subscribeToUserHints({
        client,
        session,
        listener,
        onConnect,
        onError,
        // Deliveries of this user ended in a sign-out in Supabase Auth: remove their objects.
        onRelease: () => {
          parts.releaseAssets().catch(onError);
        },
      });
  }
  return transport;
}
