/**
 * The session routes of the in-memory server: authentication (a revoked session answers 401
 * `session_revoked`), a light check of each body, the work in {@link MemorySessions} and
 * {@link MemoryAssets}, realtime events, and the sweep that frees assets once nothing live
 * references them.
 *
 * @module
 */
import { isSha256Hex } from '../assets/sha256.js';
import { SyncError } from '../errors/sync-error.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import type {
  AssetProbe,
  AuthSession,
  DeliveryStatusAnswer,
  SessionEvent,
  TransferRecord,
  TransferRequest,
  TransferState,
} from '../transport/types.js';
import { MemoryAssets, TRANSFER_REQUEST_KIND } from './memory-assets.js';
import type { MemorySessionRoutes } from './memory-session-transport.js';
import {
  DEFAULT_ACTIVE_WINDOW_MS,
  invalid,
  MemorySessions,
  type SendDeliveryBody,
} from './memory-sessions.js';

/** Session, delivery and asset options of the in-memory server. */
export interface MemorySessionOptions {
  /**
   * A session silent for longer is stale: not targeted, not waited for.
   * @default 86400000 (24 h)
   */
  sessionActiveWindowMs?: number;
  /**
   * Largest delivery TTL in seconds.
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
   * The members (user ids) of a shared scope, for `scopeMembers` targets.
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
      { now: host.now, authorizeScope: host.authorizeScope },
      this.sessions,
      {
        maxAssetBytes: options.maxAssetBytes ?? 2 ** 30,
        maxUserBytes: options.maxUserAssetBytes ?? 10 * 2 ** 30,
        transferTtlSeconds: options.transferTtlSeconds ?? 172_800,
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

  heartbeat(
    auth: AuthSession | null,
    body: { clientId: string; sessionId: string; label?: string; platform?: string },
  ): SessionInfo {
    const session = this.authenticate(auth);
    if (!isShortString(body.clientId) || !isShortString(body.sessionId)) {
      throw invalid('clientId and sessionId must be strings of 1..128 characters');
    }
    return this.sessions.heartbeat(session, body);
  }

  listSessions(auth: AuthSession | null): SessionInfo[] {
    return this.sessions.list(this.authenticate(auth));
  }

  revokeSessions(auth: AuthSession | null, sessionId?: string): void {
    this.sessions.revoke(this.authenticate(auth), sessionId);
  }

  sendDelivery(auth: AuthSession | null, body: SendDeliveryBody): Delivery {
    const session = this.authenticate(auth);
    checkDeliveryBody(body);
    const { delivery } = this.sessions.send(session, body);
    if (body.assetHash !== undefined) this.assets.markReferenced(body.assetHash);
    return delivery;
  }

  pendingDeliveries(auth: AuthSession | null): Delivery[] {
    return this.sessions.pending(this.authenticate(auth));
  }

  deliveryStatus(auth: AuthSession | null, id: string): DeliveryStatusAnswer {
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

  createTransfer(auth: AuthSession | null, body: TransferRequest): TransferRecord {
    const session = this.authenticate(auth);
    checkHash(body.assetHash);
    const transfer = this.assets.createTransfer(session, body);
    this.sessions.sendToUser(
      session,
      {
        id: `transfer-request:${transfer.id}`,
        scope: transfer.scope,
        kind: TRANSFER_REQUEST_KIND,
        payload: {
          transferId: transfer.id,
          assetHash: transfer.assetHash,
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

  listTransfers(auth: AuthSession | null): TransferRecord[] {
    return this.assets.listTransfers(this.authenticate(auth));
  }

  getTransfer(auth: AuthSession | null, id: string): TransferRecord {
    return this.assets.getTransfer(this.authenticate(auth), id);
  }

  transferProgress(
    auth: AuthSession | null,
    req: {
      id: string;
      side: 'upload' | 'download';
      bytesDone: number;
      state?: TransferState;
      error?: string;
    },
  ): TransferRecord {
    const session = this.authenticate(auth);
    if (!isByteCount(req.bytesDone)) throw invalid('bytesDone must be a non-negative integer');
    const transfer = this.assets.progress(session, req);
    this.#transferChanged(req.id);
    if (transfer.state === 'completed') this.assets.sweep();
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

function checkDeliveryBody(body: SendDeliveryBody): void {
  if (!isShortString(body.id) || !isShortString(body.scope) || !isShortString(body.kind)) {
    throw invalid('id, scope and kind must be strings of 1..128 characters');
  }
  if (body.assetHash !== undefined) checkHash(body.assetHash);
  const type = (body.target as { type?: unknown } | undefined)?.type;
  if (type !== 'otherSessions' && type !== 'sessions' && type !== 'scopeMembers') {
    throw invalid('target.type must be otherSessions, sessions or scopeMembers');
  }
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128;
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
