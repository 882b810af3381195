/**
 * `startServer`: a store, the handler and an HTTP server in one call, for the CLI, demos and
 * tests (`startServer({ port: 0, devAuth: true })` in a test's `beforeAll`).
 *
 * @module
 */

import type { BlobStore } from '../assets/blob-store.js';
import { devAuth as createDevAuth, type DevAuth } from '../auth/dev-auth.js';
import type { Authenticate, AuthorizeScope } from '../auth/types.js';
import {
  type CorsOptions,
  createSyncHandler,
  type ServerLimits,
  type SyncHandler,
} from '../handler.js';
import type { Logger } from '../http/problem.js';
import type { ListScopeMembers } from '../http/targeting-routes.js';
import { pgliteStore } from '../store/pglite-store.js';
import type { SyncStore } from '../store/types.js';
import { startSweeper } from '../targeting/sweeper.js';
import { serve } from './serve.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /**
   * The store. It is closed with the server only when `startServer` created it.
   * @default an in-memory `pgliteStore()`
   */
  store?: SyncStore;
  /** Establishes callers. Required unless `devAuth` is set. */
  authenticate?: Authenticate;
  /** Development auth (`POST /v1/dev/token`): `true` for a fresh one. @default false */
  devAuth?: boolean | DevAuth;
  /** May this user read/write this scope? @default a user may use only `user:<own id>` */
  authorizeScope?: AuthorizeScope;
  /** The members of a shared scope (see `SyncHandlerOptions.listScopeMembers`). */
  listScopeMembers?: ListScopeMembers;
  /** Where asset bytes live. @default a `fileBlobStore` under the OS temp directory */
  blobStore?: BlobStore;
  /**
   * How often the sweeper runs (delivery and transfer expiry, asset cleanup), in milliseconds,
   * or 0 for never (call `handler.sweep()` yourself).
   * @default 60_000 (every minute)
   */
  sweepIntervalMs?: number;
  /** Hard limits of the handler; unset fields keep their defaults. */
  limits?: Partial<ServerLimits>;
  /** CORS for browser apps on other origins. @default undefined (no CORS headers) */
  cors?: CorsOptions;
  /** Heartbeat interval of event streams. @default 15000 */
  heartbeatMs?: number;
  /** Where unexpected errors go. @default console */
  logger?: Logger;
  /**
   * How often expired tombstones are purged, in milliseconds, or 0 for never.
   * @default 3_600_000 (hourly)
   */
  purgeIntervalMs?: number;
}

/** A started server. */
export interface StartedServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The bound port. */
  port: number;
  /** The store in use. */
  store: SyncStore;
  /** The fetch handler. */
  handler: SyncHandler;
  /** The development auth, when enabled (to issue tokens in-process). */
  devAuth: DevAuth | undefined;
  /** Graceful shutdown: stop accepting, end event streams, finish answers, close the store. */
  close(): Promise<void>;
}

/**
 * Starts a sync server.
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0, devAuth: true });
 * // ... server.url ...
 * await server.close();
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  const dev =
    options.devAuth === true
      ? createDevAuth()
      : options.devAuth === false
        ? undefined
        : options.devAuth;
  const authenticate = options.authenticate ?? dev?.authenticate;
  if (authenticate === undefined) {
    throw new TypeError('startServer needs `authenticate` (e.g. jwtAuth) or `devAuth: true`');
  }
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await pgliteStore());
  const handler = createSyncHandler({
    store,
    authenticate,
    ...(options.authorizeScope === undefined ? {} : { authorizeScope: options.authorizeScope }),
    ...(options.listScopeMembers === undefined
      ? {}
      : { listScopeMembers: options.listScopeMembers }),
    ...(options.blobStore === undefined ? {} : { blobStore: options.blobStore }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(dev === undefined ? {} : { devAuth: dev }),
    ...(options.cors === undefined ? {} : { cors: options.cors }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  let running: Awaited<ReturnType<typeof serve>>;
  try {
    running = await serve(handler, {
      port: options.port ?? 8787,
      host: options.host ?? '127.0.0.1',
    });
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const purgeEvery = options.purgeIntervalMs ?? 3_600_000;
  const purgeTimer =
    purgeEvery > 0
      ? setInterval(() => {
          store.purgeTombstones().catch((error: unknown) => {
            (options.logger ?? console).error('tombstone purge failed', error);
          });
        }, purgeEvery)
      : undefined;
  purgeTimer?.unref();
  const sweepEvery = options.sweepIntervalMs ?? 60_000;
  const stopSweeper =
    sweepEvery > 0
      ? startSweeper({
          sweep: () => handler.sweep(),
          intervalMs: sweepEvery,
          logger: options.logger ?? console,
        })
      : undefined;
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    store,
    handler,
    devAuth: dev,
    close() {
      closing ??= (async () => {
        if (purgeTimer !== undefined) clearInterval(purgeTimer);
        stopSweeper?.();
        handler.closeStreams();
        await running.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
