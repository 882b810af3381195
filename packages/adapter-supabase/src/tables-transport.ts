/**
 * `supabaseTablesTransport`: a `SyncTransport` over the app's own Supabase tables (its
 * `projects`, `conversations`, `messages`...), with no syncline tables. The SQL helper in
 * `sql/tables/syncline_tables.sql` keeps each table's `revision` and `updated_at`, and
 * provides the pull and push functions; row-level security decides what each user sees.
 *
 * @module
 */
import {
  type Poke,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SyncError,
  type SyncTransport,
} from '@syncline/sync-core';
import { type SupabaseSessionSource, supabaseSessionSource } from './auth-session-source.js';
import { subscribeToPokes } from './realtime-pokes.js';
import {
  type ResolvedTable,
  resolveTable,
  type SupabaseTableOptions,
  type SupabaseTablesTransportOptions,
} from './tables-options.js';
import { pullTables } from './tables-pull.js';
import { pushTables } from './tables-push.js';

const DEFAULT_PAGE_SIZE = 500;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_HELD_RETRY_MS = 1000;

/** The transport, with `stop` to release its auth listener and timers. */
export interface SupabaseTablesTransport extends SyncTransport {
  /** Who is signed in, from `client.auth.onAuthStateChange`. */
  readonly session: SupabaseSessionSource;
  /** Stops following auth events. Call it when the client is discarded. */
  stop(): void;
}

/**
 * Creates a transport that syncs the signed-in user's rows of the app's own tables, one
 * collection per table, all in the user's scope (`user:<user id>`).
 *
 * - Pull reads each table by `(revision, id)` after the checkpoint's cursor, only below the
 *   oldest running transaction (a late commit is never skipped); rows with `deleted_at` set
 *   arrive as tombstones. Which rows: what row-level security lets the user read.
 * - Push sends the batch to `syncline_tables_push`: each mutation applies only on the row's
 *   current revision; otherwise the row comes back as a conflict for the collection's
 *   resolver. A delete sets `deleted_at`. A write refused by the table (row-level security, a
 *   constraint, an unknown column) is rejected; a setup mistake (the helper not installed, a
 *   missing grant) fails the push, retried, so no local write is dropped.
 * - Pokes arrive over Realtime on `syncline:user:<user id>`, sent by the helper's triggers
 *   for every change: a client's push or any server-side `UPDATE`.
 *
 * @example
 * ```ts
 * const supabase = createClient(SUPABASE_URL, SUPABASE_ANON_KEY);
 * const transport = supabaseTablesTransport({
 *   client: supabase,
 *   tables: { projects: {}, messages: { table: 'public.messages' } },
 * });
 * const sync = createSyncClient({ transport, collections: { projects: {}, messages: {} } });
 * ```
 */
export function supabaseTablesTransport<Collections extends string>(
  options: SupabaseTablesTransportOptions<Collections>,
): SupabaseTablesTransport {
  const { client } = options;
  if (typeof client?.rpc !== 'function' || typeof client.auth?.onAuthStateChange !== 'function') {
    throw new SyncError(
      'invalid',
      'supabaseTablesTransport: `client` must be a SupabaseClient from @supabase/supabase-js v2',
      { code: 'invalid_options' },
    );
  }
  const tables: ResolvedTable[] = Object.entries<SupabaseTableOptions>(options.tables ?? {}).map(
    ([collection, table]) => resolveTable(collection, table),
  );
  if (tables.length === 0) {
    throw new SyncError('invalid', 'supabaseTablesTransport needs at least one entry in tables', {
      code: 'invalid_options',
    });
  }
  const byCollection = new Map(tables.map((t) => [t.collection, t]));
  const pageSize = Math.max(1, Math.min(options.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
  const heldRetryMs = options.heldRetryMs ?? DEFAULT_HELD_RETRY_MS;
  const onError =
    options.onRealtimeError ?? ((error: Error) => console.warn('[syncline]', error.message));
  const session = supabaseSessionSource(client, onError);
  const scopeOf = options.scopeOf ?? ((s) => `user:${s.userId}`);
  const ownScope = (): string | undefined => {
    const current = session.current();
    return current === null ? undefined : scopeOf(current);
  };

  // Pulls again when rows were held back, through the subscription's catch-up hook.
  const catchUps = new Set<() => void>();
  let heldTimer: ReturnType<typeof setTimeout> | undefined;
  const pullAgainSoon = () => {
    if (heldTimer !== undefined || catchUps.size === 0) return;
    heldTimer = setTimeout(() => {
      heldTimer = undefined;
      for (const catchUp of catchUps) catchUp();
    }, heldRetryMs);
  };

  const transport: SupabaseTablesTransport = {
    session,
    async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
      const scope = ownScope();
      if (scope === undefined || request.scope !== scope) {
        throw new SyncError(
          'auth',
          `the app's tables are synced in the signed-in user's scope only, not ${request.scope}`,
          { status: scope === undefined ? 401 : 403, code: 'forbidden' },
        );
      }
      const { held, ...page } = await pullTables(request, { client, tables, pageSize, signal });
      if (held) pullAgainSoon();
      return page;
    },
    async push(request: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      const scope = ownScope();
      if (scope === undefined) {
        throw new SyncError('auth', 'signed out: nothing can be pushed', { status: 401 });
      }
      return pushTables(request, {
        client,
        scope,
        table: (collection) => byCollection.get(collection),
        signal,
      });
    },
    stop() {
      if (heldTimer !== undefined) clearTimeout(heldTimer);
      heldTimer = undefined;
      catchUps.clear();
      session.stop();
    },
  };
  transport.subscribe = ({ scopes, onPoke, onConnect }) => {
    const catchUp = () => onConnect?.();
    catchUps.add(catchUp);
    // The helper's triggers poke the owner's channel (`user:<id>`) whatever `scopeOf` names the
    // scope, so a custom scope listens there and hears each poke as its own.
    const current = session.current();
    const ownerScope = current === null ? undefined : `user:${current.userId}`;
    const relabel = (poke: Poke) => {
      for (const scope of scopes) onPoke({ ...poke, scope });
    };
    const leave =
      options.realtime === false || ownerScope === undefined || scopes.length === 0
        ? () => undefined
        : subscribeToPokes({
            client,
            scopes: [ownerScope],
            onPoke: relabel,
            onConnect,
            onError,
            session,
          });
    return () => {
      catchUps.delete(catchUp);
      leave();
    };
  };
  return transport;
}
