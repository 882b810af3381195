/**
 * The session-targeting endpoints (`/v1/sessions`, `/v1/deliveries`, `/v1/assets`,
 * `/v1/transfers`): what they share, and the table that maps a method and path to one.
 *
 * @module
 */
import type { ProtocolLimits } from '@syncline/sync-core/protocol';
import type { BlobStore } from '../assets/blob-store.js';
import type { UploadTails } from '../assets/byte-stream.js';
import type { UploadLanes } from '../assets/upload-lanes.js';
import type { AuthorizeScope } from '../auth/types.js';
import type { AuthContext } from '../store/types.js';
import type { RevocationCache } from '../targeting/revocation-cache.js';
import type { TargetingStore } from '../targeting/types.js';
import {
  handleAssetGet,
  handleAssetHead,
  handleAssetPut,
  handleUploadHead,
  handleUploadPut,
} from './assets-routes.js';
import {
  handleAck,
  handleDeliveryStatus,
  handlePending,
  handleSendDelivery,
} from './deliveries-routes.js';
import type { Logger } from './problem.js';
import { problem } from './problem.js';
import {
  handleHeartbeat,
  handleListSessions,
  handleRevokeAll,
  handleRevokeSession,
} from './sessions-routes.js';
import {
  handleCreateTransfer,
  handleGetTransfer,
  handleListTransfers,
  handleTransferProgress,
} from './transfers-routes.js';

/** Lists the user ids of a shared scope's members (the app's membership source). */
export type ListScopeMembers = (scope: string) => readonly string[] | Promise<readonly string[]>;

/** Size limits of session targeting. */
export interface TargetingLimits {
  /** Largest asset in bytes. @default 1073741824 (1 GiB) */
  maxAssetBytes: number;
  /** Most bytes of assets one user may hold on the server at once. @default 5368709120 (5 GiB) */
  maxUserStorageBytes: number;
  /**
   * Longest delivery TTL a sender may ask for, in seconds (400 `invalid` beyond). A send that
   * names no TTL gets 172800 (48 h), or this when it is lower.
   * @default 2592000 (30 days)
   */
  maxDeliveryTtlSeconds: number;
}

/** The defaults of {@link TargetingLimits}. */
export const DEFAULT_TARGETING_LIMITS: Readonly<TargetingLimits> = Object.freeze({
  maxAssetBytes: 1024 ** 3,
  maxUserStorageBytes: 5 * 1024 ** 3,
  maxDeliveryTtlSeconds: 30 * 24 * 60 * 60,
});

/** What every targeting route needs. */
export interface TargetingContext {
  targeting: TargetingStore;
  blobStore: BlobStore;
  authorizeScope: AuthorizeScope;
  listScopeMembers: ListScopeMembers;
  limits: Readonly<ProtocolLimits> & TargetingLimits & { maxBodyBytes: number };
  logger: Logger;
  /** The revoked check; the routes that revoke make it forget the user's sessions. */
  revocations: RevocationCache;
  /** Uploads in progress in this process, by `userId sha256`: one chunk at a time per copy. */
  uploads: UploadLanes;
  /**
   * Where the uploads sent in order to this process stand (copy, running sha256, the offset
   * being recorded), by `userId sha256`.
   */
  tails: UploadTails;
  /** The server clock, epoch milliseconds. */
  now: () => number;
  /**
   * No other process uses the database ({@link TargetingStore.singleProcess}): an upload by
   * id's offset is kept in this process between its recordings.
   */
  singleProcess: boolean;
}

/** A targeting endpoint: the request, its caller, the context, and the id in its path. */
export type TargetingRun = (
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  param: string,
) => Promise<Response>;

interface TargetingRoute {
  pattern: RegExp;
  methods: Record<string, TargetingRun>;
}

const ROUTES: readonly TargetingRoute[] = [
  { pattern: /^\/v1\/sessions\/heartbeat$/, methods: { POST: handleHeartbeat } },
  { pattern: /^\/v1\/sessions$/, methods: { GET: handleListSessions, DELETE: handleRevokeAll } },
  { pattern: /^\/v1\/sessions\/([^/]+)$/, methods: { DELETE: handleRevokeSession } },
  { pattern: /^\/v1\/deliveries$/, methods: { GET: handlePending, POST: handleSendDelivery } },
  { pattern: /^\/v1\/deliveries\/([^/]+)$/, methods: { GET: handleDeliveryStatus } },
  { pattern: /^\/v1\/deliveries\/([^/]+)\/ack$/, methods: { POST: handleAck } },
  {
    pattern: /^\/v1\/assets\/uploads\/([^/]+)$/,
    methods: { HEAD: handleUploadHead, PUT: handleUploadPut },
  },
  {
    pattern: /^\/v1\/assets\/([^/]+)$/,
    methods: { HEAD: handleAssetHead, GET: handleAssetGet, PUT: handleAssetPut },
  },
  {
    pattern: /^\/v1\/transfers$/,
    methods: { GET: handleListTransfers, POST: handleCreateTransfer },
  },
  { pattern: /^\/v1\/transfers\/([^/]+)$/, methods: { GET: handleGetTransfer } },
  { pattern: /^\/v1\/transfers\/([^/]+)\/progress$/, methods: { POST: handleTransferProgress } },
];

/** A matched targeting route: how to run it, or which methods the path allows. */
export type TargetingMatch = { run: TargetingRun; param: string } | { allow: string };

/** Finds the targeting route of `method` and `path`; `undefined` when the path is not one. */
export function matchTargetingRoute(method: string, path: string): TargetingMatch | undefined {
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (found === null) continue;
    const run = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (run === undefined) return { allow: Object.keys(route.methods).join(', ') };
    let param = '';
    try {
      param = decodeURIComponent(found[1] ?? '');
    } catch {
      throw problem(400, 'invalid', 'the path is not valid percent-encoding');
    }
    return { run, param };
  }
  return undefined;
}

/** The default membership source: a user is the only member of `user:<id>`, and of nothing else. */
export const ownScopeMembers: ListScopeMembers = (scope) =>
  scope.startsWith('user:') ? [scope.slice('user:'.length)] : [];

/** The default {@link AuthorizeScope} consistent with a membership source: members may use the scope. */
export function membersMayUse(listScopeMembers: ListScopeMembers): AuthorizeScope {
  return async (auth, scope) => {
    if (scope === `user:${auth.userId}`) return true;
    return (await listScopeMembers(scope)).includes(auth.userId);
  };
}
