/**
 * `startServer`: a store, the handler and an HTTP server in one call, for the CLI, demos and
 * tests (`startServer({ port: 0, devAuth: true })` in a test's `beforeAll`).
 *
 * @module
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlobStore, fileBlobStore } from '../assets/blob-store.js';
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
import { devSecretIn } from './dev-secret.js';
import { type ServeOptions, serve } from './serve.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /**
   * The store. It is closed with the server only when `startServer` created it.
   * @default `pgliteStore({ dataDir })` (in memory without `dataDir`)
   */
  store?: SyncStore;
  /**
   * PGlite data directory of the store `startServer` creates (ignored with `store`). With
   * `devAuth: true`, the dev signing secret is kept there too, so tokens survive a restart.
   * @default undefined (in memory)
   */
  dataDir?: string;
  /** Establishes callers. Required unless `devAuth` is set. */
  authenticate?: Authenticate;
  /**
   * Development auth (`POST /v1/dev/token`): `true` for one with a secret kept in `dataDir`
   * (random per process without one). Refused on a non-loopback `host` unless `devAuthPublic`.
   * @default false
   */
  devAuth?: boolean | DevAuth;
  /**
   * Allow development auth on a non-loopback `host`, where anyone who reaches the server can
   * sign in as anyone. @default false
   */
  devAuthPublic?: boolean;
  /** May this user read/write this scope? @default a user may use only `user:<own id>` */
  authorizeScope?: AuthorizeScope;
  /** The members of a shared scope (see `SyncHandlerOptions.listScopeMembers`). */
  listScopeMembers?: ListScopeMembers;
  /**
   * Where asset bytes live. Give each database its own: the sweeper deletes every blob its
   * database does not know.
   * @default with `dataDir`, a `fileBlobStore` in `<dataDir>/assets` (as the CLI); with
   * neither `store` nor `dataDir` (a database in memory), one in a new temporary directory
   * removed by `close()`; with `store`, the handler's default (`<os tmpdir>/syncline-assets`)
   */
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
  /** Interval of the access rechecks of open event streams; see `SyncHandlerOptions`. @default 30000 */
  streamAccessCheckMs?: number;
  /** HTTP timeouts: see {@link ServeOptions}. @default 15 s headers, 60 s request, 5 s keep-alive */
  timeouts?: Pick<ServeOptions, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;
  /** Where unexpected errors go. @default console */
  logger?: Logger;
  /**
   * How often expired tombstones and stored mutation outcomes are purged (see the store's
   * `tombstoneRetentionMs` and `mutationRetentionMs`), in milliseconds, or 0 for never.
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
  const host = options.host ?? '127.0.0.1';
  if (
    options.devAuth !== undefined &&
    options.devAuth !== false &&
    options.devAuthPublic !== true &&
    !isLoopback(host)
  ) {
    throw new TypeError(
      `refusing development auth on ${host}: anyone who can reach it could sign in as any user. Bind a loopback address (127.0.0.1), or pass devAuthPublic: true (--dev-auth-public) if that is really what you want.`,
    );
  }
  const dataDir = options.store === undefined ? options.dataDir : undefined;
  const dev =
    options.devAuth === true
      ? createDevAuth(dataDir === undefined ? {} : { secret: await devSecretIn(dataDir) })
      : options.devAuth === false
        ? undefined
        : options.devAuth;
  const authenticate = options.authenticate ?? dev?.authenticate;
  if (authenticate === undefined) {
    throw new TypeError('startServer needs `authenticate` (e.g. jwtAuth) or `devAuth: true`');
  }
  const ownsStore = options.store === undefined;
  // Asset bytes beside the database they belong to, never in a directory another server's
  // sweep would empty of the blobs its own database does not know.
  const blobDir =
    options.blobStore !== undefined || !ownsStore
      ? undefined
      : dataDir === undefined
        ? { path: await mkdtemp(join(tmpdir(), 'syncline-assets-')), temporary: true }
        : { path: join(dataDir, 'assets'), temporary: false };
  const blobStore =
    options.blobStore ??
    (blobDir === undefined ? undefined : fileBlobStore({ directory: blobDir.path }));
  const removeBlobDir = async () => {
    if (blobDir?.temporary === true) await rm(blobDir.path, { recursive: true, force: true });
  };
  const store = options.store ?? (await pgliteStore(dataDir === undefined ? {} : { dataDir }));
  const handler = createSyncHandler({
    store,
    authenticate,
    ...(options.authorizeScope === undefined ? {} : { authorizeScope: options.authorizeScope }),
    ...(options.listScopeMembers === undefined
      ? {}
      : { listScopeMembers: options.listScopeMembers }),
    ...(blobStore === undefined ? {} : { blobStore }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(dev === undefined ? {} : { devAuth: dev }),
    ...(options.cors === undefined ? {} : { cors: options.cors }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.streamAccessCheckMs === undefined
      ? {}
      : { streamAccessCheckMs: options.streamAccessCheckMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  let running: Awaited<ReturnType<typeof serve>>;
  try {
    running = await serve(handler, { ...options.timeouts, port: options.port ?? 8787, host });
  } catch (error) {
    if (ownsStore) await store.close();
    await removeBlobDir();
    throw error;
  }
  const purgeEvery = options.purgeIntervalMs ?? 3_600_000;
  const purgeTimer =
    purgeEvery > 0
      ? setInterval(() => {
          store.purgeTombstones().catch((error: unknown) => {
            (options.logger ?? console).error('tombstone purge failed', error);
          });
          store.purgeMutations().catch((error: unknown) => {
            (options.logger ?? console).error('mutation log purge failed', error);
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
        await removeBlobDir();
      })();
      return closing;
    },
  };
}

/** `true` for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1'
  );
}
