/**
 * `resourceTransport`: a `SyncTransport` over an app's existing REST resources (list with
 * revisions, GET an item, PUT with `baseRevision` answered 200 or 409 with the server's copy,
 * DELETE as a tombstone), with no syncline server.
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
} from '@syncline/sync-core';
import { HttpClient } from '../http/http-client.js';
import {
  type ResolvedResource,
  type ResourceTransportOptions,
  resolveResource,
} from './options.js';
import { ResourceApi } from './resource-api.js';
import { ResourcePuller } from './resource-pull.js';
import { pushToResources } from './resource-push.js';

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_PAGE_SIZE = 100;

/**
 * Creates a `SyncTransport` that syncs the signed-in user's records with an app's own REST
 * resources. Each collection of the client maps to one resource; the records live in the
 * user's scope `user:<userId>`.
 *
 * - Pull lists each resource, compares the listed revisions with the last synced ones (kept in
 *   the checkpoint) and fetches what changed, `concurrency` items at a time. An item that
 *   disappears from the list (or is listed with `deletedAt`) becomes a tombstone.
 * - Push sends one request per mutation through the outbox: `put` and `patch` as
 *   `PUT <path>/<id>` with `baseRevision` (a patch reads the item and merges first), `delete`
 *   as `DELETE <path>/<id>`; a 409 becomes a conflict with the server's copy for the
 *   collection's resolver. See `resource-push.ts` for what holds without server idempotency.
 * - A 404 with a JSON body means "no such item for this user"; a 404 without one means the
 *   route does not exist (a setup mistake: retried, nothing is rolled back).
 * - Errors are `SyncError`s as with `restTransport`: `auth` (401/403), `rate-limited` (429
 *   with `retryAfterMs`), `server` (5xx, bad answers), `network`, `timeout`.
 *
 * @example
 * ```ts
 * const transport = resourceTransport({
 *   baseUrl: 'https://api.example.com',
 *   getToken: () => auth.accessToken(),
 *   session,
 *   resources: { projects: { path: '/api/projects' } },
 * });
 * const client = createSyncClient({ transport, collections: { projects: {} } });
 * ```
 */
export function resourceTransport<Collections extends string>(
  options: ResourceTransportOptions<Collections>,
): SyncTransport {
  const env = options.environment;
  const now = env?.now ?? (() => Date.now());
  const http = new HttpClient({
    baseUrl: options.baseUrl,
    getToken: options.getToken,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    timers: {
      now,
      setTimeout: env?.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms)),
      clearTimeout:
        env?.clearTimeout ??
        ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)),
    },
  });
  const resources: ResolvedResource[] = Object.entries<
    ResourceTransportOptions['resources'][string]
  >(options.resources).map(([collection, resource]) => resolveResource(collection, resource));
  if (resources.length === 0) {
    throw new SyncError('invalid', 'resourceTransport needs at least one entry in resources');
  }
  const byCollection = new Map(resources.map((r) => [r.collection, r]));
  const api = new ResourceApi(http, now);
  const puller = new ResourcePuller({
    api,
    resources,
    concurrency: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY),
    pageSize: Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE),
    now,
  });

  const ownScope = (): string | undefined => {
    const session = options.session?.current();
    return session ? `user:${session.userId}` : undefined;
  };

  const transport: SyncTransport = {
    async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
      const scope = ownScope();
      if (scope === undefined || request.scope !== scope) {
        throw new SyncError(
          'auth',
          `a resource API serves only the signed-in user's scope, not ${request.scope}`,
          {
            status: 403,
            code: 'forbidden',
          },
        );
      }
      return puller.pull(request, signal);
    },

    async push(request: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      const scope = ownScope();
      if (scope === undefined) {
        throw new SyncError('auth', 'signed out: nothing can be pushed', { status: 401 });
      }
      return pushToResources(request, { api, scope, resource: (c) => byCollection.get(c), signal });
    },
  };
  if (options.session !== undefined) transport.session = options.session;
  const realtime = options.realtime;
  if (realtime !== undefined) {
    transport.subscribe = ({ onConnect }) => {
      // A change hint from the app's own channel: the client pulls, as after a reconnection.
      onConnect?.();
      try {
        return realtime(() => onConnect?.());
      } catch (cause) {
        options.onRealtimeError?.(
          new SyncError('network', 'the realtime callback threw', { cause }),
        );
        return () => undefined;
      }
    };
  }
  return transport;
}
