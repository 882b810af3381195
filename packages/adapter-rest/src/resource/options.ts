import type {
  Json,
  JsonObject,
  SessionSource,
  SyncEnvironment,
  SyncError,
} from '@syncline/sync-core';
import type { TokenProvider } from '../http/http-client.js';

/**
 * How one collection maps onto an app's REST resource. Every field has a default that fits the
 * common shape (`GET /api/projects`, `GET|PUT|DELETE /api/projects/:id`, fields `id`,
 * `revision`, `updatedAt`, `deletedAt`), so `{ path: '/api/projects' }` is a complete
 * configuration.
 */
export interface ResourceOptions {
  /**
   * The collection route, relative to `baseUrl`: `GET <path>` lists, and `<path>/<id>` is one
   * item (`GET`, `PUT`, `DELETE`).
   * @example '/api/projects'
   */
  path: string;
  /**
   * The field that carries the record id.
   * @default 'id'
   */
  idField?: string;
  /**
   * The field that carries the record's revision: an integer the server raises on every write
   * (the optimistic-concurrency token of `baseRevision`).
   * @default 'revision'
   */
  revisionField?: string;
  /**
   * The field with the server's time of the last write (ISO 8601 text or epoch milliseconds);
   * the record's HLC is derived from it, so last-writer-wins compares server times.
   * @default 'updatedAt'
   */
  updatedAtField?: string;
  /**
   * The field that marks a soft-deleted item (a tombstone) when it is set (not `null`).
   * @default 'deletedAt'
   */
  deletedAtField?: string;
  /**
   * Whether the list answer includes soft-deleted items (with `deletedAtField` set). When it
   * does not, an item that disappears from the list is taken as deleted.
   * @default false
   */
  listIncludesDeleted?: boolean;
  /**
   * Whether listed items are complete (they carry every field the record needs), so a changed
   * item is taken from the list without a `GET <path>/<id>`.
   * @default false
   */
  listIncludesData?: boolean;
  /**
   * Query parameters added to every list request, e.g. `{ includeDeleted: '1' }` together with
   * `listIncludesDeleted: true`.
   * @default {}
   */
  listQuery?: Record<string, string>;
  /**
   * Items per list request. When set, the list is read as pages with `?limit=<n>&offset=<k>`
   * until a page comes back shorter than `n`; when unset, one `GET <path>` returns every item.
   * @default undefined (one request)
   */
  listPageSize?: number;
  /**
   * Turns an item of the API into the record's data. Receives the whole item as the API sent
   * it.
   * @default every field but the id, revision, updated-at and deleted-at fields
   */
  toData?: (item: JsonObject) => JsonObject;
  /**
   * Turns a record's data into the body of `PUT <path>/<id>` (the transport adds
   * `baseRevision`).
   * @default the data as it is
   */
  toBody?: (data: JsonObject) => JsonObject;
}

/** Options of {@link resourceTransport}. */
export interface ResourceTransportOptions<Collections extends string = string> {
  /** The API's base URL; each resource's `path` is appended to it. */
  baseUrl: string;
  /**
   * Supplies the bearer token (see {@link TokenProvider}); after a 401 it is called once with
   * `forceRefresh: true` and the request is retried.
   */
  getToken: TokenProvider;
  /**
   * Who is signed in. The API serves the signed-in user's own items, which the client keeps in
   * the user's scope `user:<userId>`. Without a session the client stays local.
   */
  session?: SessionSource;
  /** One entry per collection, keyed by the collection name the app uses with the client. */
  resources: Record<Collections, ResourceOptions>;
  /**
   * How many item requests (`GET <path>/<id>`) a pull has in flight at once.
   * @default 8
   */
  concurrency?: number;
  /**
   * Most changes in one pull page. Each changed item costs one `GET`, so a page stays small
   * enough to answer well within the client's request timeout; the client stores its progress
   * after every page.
   * @default 100
   */
  pageSize?: number;
  /**
   * Realtime hints: called once when the client subscribes, with a `changed` function the app
   * calls whenever its own channel (WebSocket, SSE, polling) says the data changed; the client
   * then pulls. Returns the function that stops listening.
   * @default undefined (the client pulls on its own interval)
   * @example
   * ```ts
   * realtime: (changed) => {
   *   const socket = new WebSocket('wss://api.example.com/changes');
   *   socket.onmessage = () => changed();
   *   return () => socket.close();
   * }
   * ```
   */
  realtime?: (changed: () => void) => () => void;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: typeof globalThis.fetch;
  /**
   * A request that has not answered after this long fails with a `timeout` SyncError.
   * @default 30000
   */
  timeoutMs?: number;
  /** Replaces the real clock and timers (tests). */
  environment?: Partial<Pick<SyncEnvironment, 'now' | 'setTimeout' | 'clearTimeout'>>;
  /** Told about realtime callback failures; they are never fatal. */
  onRealtimeError?: (error: SyncError) => void;
}

/** A resource's options with every default filled in. */
export interface ResolvedResource {
  collection: string;
  path: string;
  idField: string;
  revisionField: string;
  updatedAtField: string;
  deletedAtField: string;
  listIncludesDeleted: boolean;
  listIncludesData: boolean;
  listQuery: Record<string, string>;
  listPageSize: number | undefined;
  toData: (item: JsonObject) => JsonObject;
  toBody: (data: JsonObject) => JsonObject;
}

/** Fills in the defaults of one resource. */
export function resolveResource(collection: string, options: ResourceOptions): ResolvedResource {
  const idField = options.idField ?? 'id';
  const revisionField = options.revisionField ?? 'revision';
  const updatedAtField = options.updatedAtField ?? 'updatedAt';
  const deletedAtField = options.deletedAtField ?? 'deletedAt';
  const meta = new Set([idField, revisionField, updatedAtField, deletedAtField]);
  return {
    collection,
    path: options.path.replace(/\/+$/, ''),
    idField,
    revisionField,
    updatedAtField,
    deletedAtField,
    listIncludesDeleted: options.listIncludesDeleted ?? false,
    listIncludesData: options.listIncludesData ?? false,
    listQuery: options.listQuery ?? {},
    listPageSize: options.listPageSize,
    toData:
      options.toData ??
      ((item) => {
        const data: Record<string, Json> = {};
        for (const [key, value] of Object.entries(item)) if (!meta.has(key)) data[key] = value;
        return data;
      }),
    toBody: options.toBody ?? ((data) => data),
  };
}
