/**
 * The session routes of the in-memory server: authentication (a revoked session answers 401
 * `session_revoked`), a light check of each body, the work in {@link MemorySessions} and
 * {@link MemoryAssets}, realtime events, and the sweep that frees assets once nothing live
 * references them.
 *
 * @module
 */
import { isSyncError, SyncError } from '../errors/sync-error.js';
import {
  type DeliveryStatusResponse,
  TRANSFER_REQUEST_KIND,
  type Transfer,
} from '../protocol/sessions.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import {
  DEFAULT_DELIVERY_TTL_SECONDS,
  isSha256Hex,
  validateCreateTransferRequest,
  validateHeartbeatRequest,
  validateSendDeliveryRequest,
  validateTransferProgressRequest,
} from '../protocol/validate-sessions.js';
import type { AssetProbe, AuthSession, SessionEvent } from '../transport/types.js';
import { MemoryAssets } from './memory-assets.js';
import type { MemorySessionRoutes } from './memory-session-transport.js';
import { DEFAULT_ACTIVE_WINDOW_MS, invalid, MemorySessions } from './memory-sessions.js';

/** Session, delivery and asset options of the in-memory server. */
export interface MemorySessionOptions {
  /**
   * A session silent for longer is stale: not targeted, not waited for.
   * @default 86400000 (24 h)
   */
  sessionActiveWindowMs?: number;
  /**
   * Largest delivery TTL in seconds a sender may ask for (400 beyond); a send without a TTL
   * gets 48 h, or this when it is lower.
   * @default 2592000 (30 days)
   */
  maxDeliveryTtlSeconds?: number;
  /**
   * Largest asset in bytes (413 beyond).
   * @default 1073741824 (1 GiB)
   */
  maxAssetBytes?: number;
  /**
   * Bytes of assets one user may hold at once (413 beyond).
   * @default 10737418240 (10 GiB)
   */
  maxUserAssetBytes?: number;
  /**
   * How long a transfer on request lives, in seconds.
   * @default 172800 (48 h)
   */
  transferTtlSeconds?: number;
  /**
   * The members (user ids) of a shared scope, for `scopeMembers` targets and transfers. The
   * memory server's default `authorizeScope` follows it.
   * @default () => []
   */
  listScopeMembers?: (scope: string) => readonly string[];
}

/** What the routes need from the server itself. */
export interface MemorySessionServerHost {
  /** The server clock. */
  now(): number;
  /** Schedules an event delivery. */
  schedule(fn: () => void): void;
  /** Whether `userId` may read and write `scope`. */
  authorizeScope(userId: string, scope: string): boolean;
}

/** See the module comment. */
export class MemorySessionServer implements MemorySessionRoutes {
  /** Sessions and deliveries. */
  readonly sessions: MemorySessions;
  /** Assets and transfers. */
  readonly assets: MemoryAssets;

  constructor(host: MemorySessionServerHost, options: MemorySessionOptions = {}) {
    const listScopeMembers = options.listScopeMembers ?? (() => []);
    this.sessions = new MemorySessions(
      {
        now: host.now,
        schedule: host.schedule,
        authorizeScope: host.authorizeScope,
        listScopeMembers,
        released: () => this.assets.sweep(),
      },
      {
        activeWindowMs: options.sessionActiveWindowMs ?? DEFAULT_ACTIVE_WINDOW_MS,
        maxTtlSeconds: options.maxDeliveryTtlSeconds ?? 30 * 24 * 3600,
      },
    );
    this.assets = new MemoryAssets(
      {
        now: host.now,
        authorizeScope: host.authorizeScope,
        transferChanged: (id) => this.#transferChanged(id),
      },
      this.sessions,
      {
        maxAssetBytes: options.maxAssetBytes ?? 2 ** 30,
        maxUserBytes: options.maxUserAssetBytes ?? 10 * 2 ** 30,
        transferTtlSeconds: options.transferTtlSeconds ?? DEFAULT_DELIVERY_TTL_SECONDS,
      },
    );
  }

  /** Throws 401 for no credentials or a revoked session. */
  authenticate(auth: AuthSession | null): AuthSession {
    if (auth === null) {
      throw new SyncError('auth', 'not signed in', { status: 401, code: 'unauthorized' });
    }
    this.sessions.checkNotRevoked(auth);
    return auth;
  }

  /** Expires deliveries and transfers past their TTL, then deletes unreferenced assets. */
  sweep(): string[] {
    this.sessions.sweep();
    return this.assets.sweep();
  }

  heartbeat(auth: AuthSession | null, body: unknown): SessionInfo {
    const session = this.authenticate(auth);
    return this.sessions.heartbeat(
      session,
      parse(() => validateHeartbeatRequest(body)),
    );
  }

  listSessions(auth: AuthSession | null): SessionInfo[] {
    return this.sessions.list(this.authenticate(auth));
  }

  revokeSessions(auth: AuthSession | null, sessionId?: string): void {
    this.sessions.revoke(this.authenticate(auth), sessionId);
  }

  sendDelivery(auth: AuthSession | null, body: unknown): Delivery {
    const session = this.authenticate(auth);
    const request = parse(() => validateSendDeliveryRequest(body));
    const hash = request.assetHash;
    if (
      hash !== undefined &&
      !this.sessions.exists(request.id) &&
      !this.assets.hasComplete(session.userId, hash)
    ) {
      throw new SyncError('conflict', 'upload the asset before sending a delivery of it', {
        status: 409,
        code: 'asset_missing',
      });
    }
    const { delivery } = this.sessions.send(session, request);
    if (hash !== undefined) this.assets.markReferenced(session.userId, hash);
    return delivery;
  }

  pendingDeliveries(auth: AuthSession | null): Delivery[] {
    return this.sessions.pending(this.authenticate(auth));
  }

  deliveryStatus(auth: AuthSession | null, id: string): DeliveryStatusResponse {
    return this.sessions.status(this.authenticate(auth), id);
  }

  ackDelivery(auth: AuthSession | null, id: string): { complete: boolean } {
    return this.sessions.ack(this.authenticate(auth), id);
  }

  probeAsset(auth: AuthSession | null, sha256: string): AssetProbe {
    return this.assets.probe(this.authenticate(auth), checkHash(sha256));
  }

  uploadAsset(
    auth: AuthSession | null,
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
  ): void {
    const session = this.authenticate(auth);
    checkHash(req.sha256);
    if (!isByteCount(req.offset) || !isByteCount(req.totalSize)) {
      throw invalid('offset and totalSize must be non-negative integers');
    }
    this.assets.upload(session, req);
  }

  downloadAsset(
    auth: AuthSession | null,
    req: { sha256: string; start: number; end?: number },
  ): Uint8Array {
    const session = this.authenticate(auth);
    checkHash(req.sha256);
    return this.assets.download(session, req);
  }

  createTransfer(auth: AuthSession | null, body: unknown): Transfer {
    const session = this.authenticate(auth);
    const request = parse(() => validateCreateTransferRequest(body));
    const { transfer, created } = this.assets.createTransfer(session, request);
    if (!created) return transfer;
    this.sessions.sendToUser(
      session,
      {
        // The transfer's id is a UUID too, and unique among transfers: the request reuses it.
        id: transfer.id,
        scope: transfer.scope,
        kind: TRANSFER_REQUEST_KIND,
        payload: {
          transferId: transfer.id,
          assetHash: transfer.assetHash,
          requesterUserId: transfer.requesterUserId,
          ...(transfer.name === undefined ? {} : { name: transfer.name }),
          ...(transfer.size === undefined ? {} : { size: transfer.size }),
          ...(transfer.mimeType === undefined ? {} : { mimeType: transfer.mimeType }),
        },
        target: { type: 'otherSessions' },
        ttlSeconds: Math.max(1, Math.round((transfer.expiresAt - transfer.createdAt) / 1000)),
      },
      transfer.holderUserId,
    );
    this.#transferChanged(transfer.id);
    return transfer;
  }

  listTransfers(auth: AuthSession | null): Transfer[] {
    return this.assets.listTransfers(this.authenticate(auth));
  }

  getTransfer(auth: AuthSession | null, id: string): Transfer {
    return this.assets.getTransfer(this.authenticate(auth), id);
  }

  transferProgress(auth: AuthSession | null, id: string, body: unknown): Transfer {
    const session = this.authenticate(auth);
    const request = parse(() => validateTransferProgressRequest(body));
    const transfer = this.assets.progress(session, id, request);
    this.#transferChanged(id);
    if (transfer.state === 'completed' || transfer.state === 'failed') this.assets.sweep();
    return transfer;
  }

  watchSessionEvents(
    auth: () => AuthSession | null,
    listener: (event: SessionEvent) => void,
  ): () => void {
    return this.sessions.watch(auth, listener);
  }

  #transferChanged(id: string): void {
    this.sessions.emitToUsers(this.assets.partiesOf(id), { type: 'transfer', id });
  }
}

function checkHash(hash: unknown): string {
  if (!isSha256Hex(hash)) throw invalid('an asset is named by its lowercase hex sha256');
  return hash;
}

/** A validation failure answers 400 `invalid`, as over HTTP. */
function parse<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (!isSyncError(error)) throw error;
    throw new SyncError('rejected', error.message, {
      status: 400,
      code: 'invalid',
      details: error.details,
      cause: error,
    });
  }
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
