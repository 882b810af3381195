/**
 * Sessions and deliveries of the in-memory server, with the semantics of the wire contract
 * (`/v1/sessions`, `/v1/deliveries`): upsert on `(userId, clientId)`, an active window, target
 * sets fixed at creation, completion when every still-active target acknowledged, expiry on the
 * server's clock, and answers that never let a caller probe another user's ids.
 *
 * @module
 */
import { SyncError } from '../errors/sync-error.js';
import type { DeliveryStatusResponse, SendDeliveryRequest } from '../protocol/sessions.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import { DEFAULT_DELIVERY_TTL_SECONDS } from '../protocol/validate-sessions.js';
import type { AuthSession, SessionEvent } from '../transport/types.js';

/** Default active window: a session silent for longer is stale. */
export const DEFAULT_ACTIVE_WINDOW_MS = 24 * 60 * 60 * 1000;

interface StoredSession {
  userId: string;
  sessionId: string;
  clientId: string;
  label?: string;
  platform?: string;
  lastSeenAt: number;
  revokedAt?: number;
}

interface StoredDelivery {
  delivery: Delivery;
  senderUserId: string;
  /** Sessions that must acknowledge, fixed at creation. */
  targets: ReadonlySet<string>;
  /** Users whose sessions that appear later may still receive it (not for `sessions`). */
  receiverUsers: ReadonlySet<string>;
  acked: Set<string>;
  /** Complete at the first acknowledgement (a transfer request: one device serves it). */
  anyAck: boolean;
  completedAt?: number;
  expired: boolean;
}

/** What {@link MemorySessions} needs from its server. */
export interface MemorySessionsHost {
  /** The server clock. */
  now(): number;
  /** Schedules an event delivery. */
  schedule(fn: () => void): void;
  /** Whether `userId` may write `scope`. */
  authorizeScope(userId: string, scope: string): boolean;
  /** The members of a shared scope. */
  listScopeMembers(scope: string): readonly string[];
  /** Called when a delivery completes or expires (assets may be freed). */
  released(): void;
}

/** Options of {@link MemorySessions}. */
export interface MemorySessionsOptions {
  /** Active window in milliseconds. */
  activeWindowMs: number;
  /** Largest accepted TTL in seconds. */
  maxTtlSeconds: number;
}

/** Sessions and deliveries held in memory; see the module comment. */
export class MemorySessions {
  readonly #host: MemorySessionsHost;
  readonly #options: MemorySessionsOptions;
  readonly #sessions = new Map<string, StoredSession>();
  readonly #deliveries = new Map<string, StoredDelivery>();
  readonly #listeners = new Set<{
    auth: () => AuthSession | null;
    listener: (event: SessionEvent) => void;
  }>();

  constructor(host: MemorySessionsHost, options: MemorySessionsOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** Throws 401 `session_revoked` when `auth`'s session was revoked. */
  checkNotRevoked(auth: AuthSession): void {
    const stored = this.#sessions.get(auth.sessionId);
    if (stored?.revokedAt !== undefined) {
      throw new SyncError('auth', 'this session was signed out', {
        status: 401,
        code: 'session_revoked',
      });
    }
  }

  /** `POST /v1/sessions/heartbeat`. */
  heartbeat(
    auth: AuthSession,
    body: { clientId: string; sessionId: string; label?: string; platform?: string },
  ): SessionInfo {
    if (body.sessionId !== auth.sessionId) {
      throw forbidden('the heartbeat names another session than the token');
    }
    const now = this.#host.now();
    let changed = false;
    for (const other of this.#sessions.values()) {
      // Upsert on (userId, clientId): a re-login on this device replaces its old session.
      if (
        other.userId === auth.userId &&
        other.clientId === body.clientId &&
        other.sessionId !== auth.sessionId &&
        other.revokedAt === undefined
      ) {
        other.revokedAt = now;
        changed = true;
      }
    }
    const existing = this.#sessions.get(auth.sessionId);
    if (existing === undefined) changed = true;
    const session: StoredSession = {
      userId: auth.userId,
      sessionId: auth.sessionId,
      clientId: body.clientId,
      lastSeenAt: now,
      ...(body.label === undefined ? {} : { label: body.label }),
      ...(body.platform === undefined ? {} : { platform: body.platform }),
    };
    this.#sessions.set(auth.sessionId, session);
    if (changed) this.#emitToUser(auth.userId, { type: 'session' }, auth.sessionId);
    return this.#info(session);
  }

  /** `GET /v1/sessions`: the caller's user's sessions, not revoked, most recently seen first. */
  list(auth: AuthSession): SessionInfo[] {
    return [...this.#sessions.values()]
      .filter((s) => s.userId === auth.userId && s.revokedAt === undefined)
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
      .map((s) => this.#info(s));
  }

  /** `DELETE /v1/sessions[/:id]`. */
  revoke(auth: AuthSession, sessionId?: string): void {
    const now = this.#host.now();
    if (sessionId !== undefined) {
      const stored = this.#sessions.get(sessionId);
      if (stored === undefined || stored.userId !== auth.userId) throw notFound('session');
      stored.revokedAt ??= now;
    } else {
      for (const stored of this.#sessions.values()) {
        if (stored.userId === auth.userId) stored.revokedAt ??= now;
      }
    }
    this.#emitToUser(auth.userId, { type: 'session' });
    this.#settleAll();
  }

  /**
   * A delivery the server itself sends for `auth` to every session of `userId` (a transfer
   * request to the holder): sessions that appear later receive it while it lives, and the
   * first acknowledgement completes it.
   */
  sendToUser(auth: AuthSession, body: SendDeliveryRequest, userId: string): Delivery {
    return this.send(auth, body, userId).delivery;
  }

  /** `POST /v1/deliveries`. */
  send(
    auth: AuthSession,
    body: SendDeliveryRequest,
    toUser?: string,
  ): { delivery: Delivery; created: boolean } {
    const existing = this.#deliveries.get(body.id);
    if (existing !== undefined) {
      if (existing.senderUserId !== auth.userId) {
        throw new SyncError('conflict', 'this delivery id is taken', {
          status: 409,
          code: 'conflict',
        });
      }
      return { delivery: this.#forSender(existing), created: false };
    }
    if (!this.#host.authorizeScope(auth.userId, body.scope)) {
      throw forbidden(`not allowed to write scope ${body.scope}`);
    }
    // A sender's ttl is capped; without one, the default is 48 h or the cap when lower. The
    // server's own deliveries (a transfer's request, `toUser`) live as long as they were made
    // to, as on the reference server.
    const max = this.#options.maxTtlSeconds;
    const ttl = body.ttlSeconds ?? Math.min(DEFAULT_DELIVERY_TTL_SECONDS, max);
    if (!(Number.isInteger(ttl) && ttl > 0 && (toUser !== undefined || ttl <= max))) {
      throw invalid(`ttlSeconds must be an integer in 1..${max}`);
    }
    let receiverUsers: Set<string>;
    let candidates: StoredSession[];
    const target = body.target;
    if (toUser !== undefined) {
      receiverUsers = new Set([toUser]);
      candidates = [...this.#sessions.values()].filter((s) => s.userId === toUser);
    } else if (target.type === 'sessions') {
      candidates = [];
      for (const id of target.ids) {
        const stored = this.#sessions.get(id);
        if (stored === undefined || stored.userId !== auth.userId) {
          throw forbidden('a delivery may only target sessions of its sender');
        }
        candidates.push(stored);
      }
      receiverUsers = new Set();
    } else {
      receiverUsers =
        target.type === 'otherSessions'
          ? new Set([auth.userId])
          : new Set(this.#host.listScopeMembers(body.scope));
      candidates = [...this.#sessions.values()].filter((s) => receiverUsers.has(s.userId));
    }
    const targets = new Set(
      candidates
        .filter((s) => this.#isActive(s) && s.sessionId !== auth.sessionId)
        .map((s) => s.sessionId),
    );
    const now = this.#host.now();
    const delivery: Delivery = {
      id: body.id,
      scope: body.scope,
      kind: body.kind,
      ...(body.payload === undefined ? {} : { payload: structuredClone(body.payload) }),
      ...(body.assetHash === undefined ? {} : { assetHash: body.assetHash }),
      originSessionId: auth.sessionId,
      target: structuredClone(target),
      createdAt: now,
      expiresAt: now + ttl * 1000,
    };
    const stored: StoredDelivery = {
      delivery,
      senderUserId: auth.userId,
      targets,
      receiverUsers,
      acked: new Set(),
      anyAck: toUser !== undefined,
      expired: false,
    };
    this.#deliveries.set(body.id, stored);
    this.#settle(stored);
    for (const watcher of this.#listeners) {
      this.#host.schedule(() => {
        const session = watcher.auth();
        if (session === null || !this.#listeners.has(watcher)) return;
        if (this.#receives(stored, session)) watcher.listener({ type: 'delivery', id: body.id });
      });
    }
    return { delivery: this.#forSender(stored), created: true };
  }

  /** `GET /v1/deliveries?pending=1`. */
  pending(auth: AuthSession): Delivery[] {
    this.#settleAll();
    // Live ones only: a completed delivery is not offered to a session that never acknowledged
    // it (a later one, or a target back from staleness), as the reference server lists them.
    return [...this.#deliveries.values()]
      .filter(
        (d) =>
          !d.expired &&
          d.completedAt === undefined &&
          this.#receives(d, auth) &&
          !d.acked.has(auth.sessionId),
      )
      .sort((a, b) => a.delivery.createdAt - b.delivery.createdAt)
      .map((d) => structuredClone(d.delivery));
  }

  /** `GET /v1/deliveries/:id`: for the sender's user only. */
  status(auth: AuthSession, id: string): DeliveryStatusResponse {
    this.#settleAll();
    const stored = this.#deliveries.get(id);
    if (stored === undefined || stored.senderUserId !== auth.userId) throw notFound('delivery');
    return {
      delivery: this.#forSender(stored),
      status: {
        targets: [...stored.targets],
        acked: [...stored.acked],
        complete: stored.completedAt !== undefined,
        expired: stored.expired,
      },
    };
  }

  /** `true` when a delivery with this id exists (of any user). */
  exists(id: string): boolean {
    return this.#deliveries.has(id);
  }

  /** `POST /v1/deliveries/:id/ack`. */
  ack(auth: AuthSession, id: string): { complete: boolean } {
    const stored = this.#deliveries.get(id);
    if (stored !== undefined) this.#settle(stored);
    // Unknown, not a receiver, another user, expired: one answer, so ids cannot be probed.
    // Past its TTL even a completed delivery is over: no ack may touch it.
    if (
      stored === undefined ||
      stored.expired ||
      this.#host.now() >= stored.delivery.expiresAt ||
      !this.#receives(stored, auth)
    ) {
      throw notFound('delivery');
    }
    // A completed delivery stays acknowledgeable (idempotent retries) but never changes again.
    if (stored.completedAt !== undefined) return { complete: true };
    stored.acked.add(auth.sessionId);
    this.#settle(stored);
    return { complete: stored.completedAt !== undefined };
  }

  /** Expires deliveries past their TTL and completes those no active target still waits on. */
  sweep(): void {
    this.#settleAll();
  }

  /** The `(sender user, hash)` copies a live (neither complete nor expired) delivery references. */
  liveAssetCopies(): Array<{ userId: string; hash: string }> {
    this.#settleAll();
    const copies: Array<{ userId: string; hash: string }> = [];
    for (const d of this.#deliveries.values()) {
      if (!d.expired && d.completedAt === undefined && d.delivery.assetHash !== undefined) {
        copies.push({ userId: d.senderUserId, hash: d.delivery.assetHash });
      }
    }
    return copies;
  }

  /**
   * The user whose copy of `hash` `auth` may read as sender or receiver of a live delivery
   * (the sender's), or `undefined`.
   */
  readableCopyOwner(auth: AuthSession, hash: string): string | undefined {
    // Settled at now first: a delivery past its TTL grants nothing, swept or not.
    this.#settleAll();
    for (const d of this.#deliveries.values()) {
      if (d.expired || d.completedAt !== undefined || d.delivery.assetHash !== hash) continue;
      if (d.senderUserId === auth.userId || this.#receives(d, auth)) return d.senderUserId;
    }
    return undefined;
  }

  /** Active session ids of `userId`. */
  activeSessionsOf(userId: string): string[] {
    return [...this.#sessions.values()]
      .filter((s) => s.userId === userId && this.#isActive(s))
      .map((s) => s.sessionId);
  }

  /** Registers a realtime listener for `auth()`'s session; returns the unsubscribe. */
  watch(auth: () => AuthSession | null, listener: (event: SessionEvent) => void): () => void {
    const watcher = { auth, listener };
    this.#listeners.add(watcher);
    return () => {
      this.#listeners.delete(watcher);
    };
  }

  /** Sends `event` to the streams of `userId` (but not `exceptSessionId`'s). */
  emitToUsers(userIds: readonly string[], event: SessionEvent): void {
    for (const userId of new Set(userIds)) this.#emitToUser(userId, event);
  }

  #emitToUser(userId: string, event: SessionEvent, exceptSessionId?: string): void {
    for (const watcher of this.#listeners) {
      this.#host.schedule(() => {
        const session = watcher.auth();
        if (session === null || !this.#listeners.has(watcher)) return;
        if (session.userId === userId && session.sessionId !== exceptSessionId) {
          watcher.listener(event);
        }
      });
    }
  }

  #receives(stored: StoredDelivery, auth: AuthSession): boolean {
    if (auth.sessionId === stored.delivery.originSessionId) return false;
    if (stored.targets.has(auth.sessionId)) return true;
    const session = this.#sessions.get(auth.sessionId);
    if (session?.revokedAt !== undefined) return false;
    // A listed session that was not active at creation may still receive it when it returns.
    const target = stored.delivery.target;
    if (target.type === 'sessions') {
      return auth.userId === stored.senderUserId && target.ids.includes(auth.sessionId);
    }
    return stored.receiverUsers.has(auth.userId);
  }

  #isActive(session: StoredSession): boolean {
    return (
      session.revokedAt === undefined &&
      this.#host.now() - session.lastSeenAt <= this.#options.activeWindowMs
    );
  }

  #settleAll(): void {
    for (const stored of this.#deliveries.values()) this.#settle(stored);
  }

  /** Expiry first (an expired delivery never completes), then completion. */
  #settle(stored: StoredDelivery): void {
    if (stored.expired || stored.completedAt !== undefined) return;
    const now = this.#host.now();
    if (now >= stored.delivery.expiresAt) {
      stored.expired = true;
      this.#host.released();
      return;
    }
    // Nobody to wait for (a transfer request, or every other device stale at creation): it waits
    // for a session that appears later, and its first acknowledgement completes it.
    if ((stored.anyAck || stored.targets.size === 0) && stored.acked.size === 0) return;
    for (const id of stored.anyAck ? [] : stored.targets) {
      const session = this.#sessions.get(id);
      if (session !== undefined && this.#isActive(session) && !stored.acked.has(id)) return;
    }
    stored.completedAt = now;
    this.#host.released();
  }

  #forSender(stored: StoredDelivery): Delivery {
    return {
      ...structuredClone(stored.delivery),
      targetSessionIds: [...stored.targets],
      ...(stored.completedAt === undefined ? {} : { completedAt: stored.completedAt }),
      ...(stored.expired ? { expired: true as const } : {}),
    };
  }

  #info(session: StoredSession): SessionInfo {
    return { ...session, active: this.#isActive(session) };
  }
}

/** 404 `not_found`, as the HTTP server answers it. */
export function notFound(what: string): SyncError {
  return new SyncError('rejected', `${what} not found`, { status: 404, code: 'not_found' });
}

/** 403 `forbidden`. */
export function forbidden(message: string): SyncError {
  return new SyncError('auth', message, { status: 403, code: 'forbidden' });
}

/** 400 `invalid`. */
export function invalid(message: string): SyncError {
  return new SyncError('rejected', message, { status: 400, code: 'invalid' });
}
