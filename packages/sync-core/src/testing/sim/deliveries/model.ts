/**
 * The run's own model of sessions and deliveries, built only from what reached the server (the
 * network reports every call the server handled) and from the handlers the devices ran. It is
 * independent of the server's bookkeeping, so the checks compare the two:
 *
 * - no delivery handled twice by one session (counted across crashes and reloads), and handled
 *   only by a session that receives it;
 * - targets fixed at creation: the sender's receivers' sessions active then, minus the sender;
 * - pending lists hold nothing a session must not get and miss nothing a target still owes;
 * - completion exactly when every still-active target acknowledged (not before; reached once
 *   they have), expiry exactly at the TTL, never both;
 * - an expired delivery cannot be acknowledged back to life; an acknowledgement from a session
 *   that does not receive the delivery changes nothing.
 *
 * @module
 */
import { isSyncError } from '../../../errors/sync-error.js';
import type { DeliveryStatus } from '../../../protocol/sessions.js';
import type { Delivery, DeliveryTarget } from '../../../protocol/types.js';
import type { AuthSession } from '../../../transport/types.js';
import type { SimCounters } from '../counters.js';
import type { HandledCall } from './link.js';

/** A broken rule, with the virtual time it was seen at. */
export interface DeliveryViolation {
  /** Which rule. */
  rule: DeliveryRule;
  /** What was seen. */
  message: string;
  /** Virtual milliseconds since the start of the run. */
  at: number;
}

/** The rules the model checks. */
export type DeliveryRule =
  | 'handled-twice'
  | 'handled-by-non-receiver'
  | 'lost'
  | 'targets'
  | 'pending'
  | 'completed-early'
  | 'completion-missing'
  | 'expiry'
  | 'acked-after-expiry'
  | 'non-receiver-ack'
  | 'ack-refused'
  | 'unacknowledged'
  | 'asset-bytes'
  | 'asset-leak'
  | 'upload-not-resumed'
  | 'blob-missing'
  | 'blob-leaked';

interface ModelSession {
  userId: string;
  clientId: string;
  lastSeen: number;
  revokedAt?: number;
}

/** What the model knows of one delivery. */
export interface ModelDelivery {
  id: string;
  kind: string;
  senderUserId: string;
  origin: string;
  target: DeliveryTarget;
  /** The asset it carries. */
  assetHash?: string;
  createdAt: number;
  expiresAt: number;
  targets: ReadonlySet<string>;
  receiverUsers: ReadonlySet<string>;
  acks: Map<string, number>;
  /** The first server time at which every still-active target had acknowledged. */
  completableAt?: number;
  /** The server said complete (sticky). */
  complete: boolean;
  /** The server said expired (sticky). */
  expired: boolean;
}

/** Options of {@link DeliveryModel}. */
export interface DeliveryModelOptions {
  /** The server's clock (epoch ms). */
  now(): number;
  /** Virtual time, for reports. */
  virtualNow(): number;
  /** The server's active window. */
  activeWindowMs: number;
  /** Members of each shared scope. */
  members: Readonly<Record<string, readonly string[]>>;
  counters: SimCounters;
  violate(violation: DeliveryViolation): void;
}

/** See the module comment. */
export class DeliveryModel {
  readonly #o: DeliveryModelOptions;
  readonly #sessions = new Map<string, ModelSession>();
  readonly deliveries = new Map<string, ModelDelivery>();
  /** Completed handler runs per `session|delivery`. */
  readonly #handled = new Map<string, number>();
  /** Handler runs started per `session|delivery` (finished or not). */
  readonly #offered = new Map<string, number>();

  constructor(options: DeliveryModelOptions) {
    this.#o = options;
  }

  /** `true` while `sessionId` is neither revoked nor silent past the active window. */
  active(sessionId: string, at = this.#o.now()): boolean {
    const s = this.#sessions.get(sessionId);
    return (
      s !== undefined && s.revokedAt === undefined && at - s.lastSeen <= this.#o.activeWindowMs
    );
  }

  /** `true` once the server took a heartbeat of `sessionId`. */
  known(sessionId: string): boolean {
    return this.#sessions.has(sessionId);
  }

  /** `true` once `sessionId` was revoked. */
  revoked(sessionId: string): boolean {
    return this.#sessions.get(sessionId)?.revokedAt !== undefined;
  }

  /** Whether `sessionId` of `userId` receives `d`. */
  receives(d: ModelDelivery, auth: AuthSession): boolean {
    if (auth.sessionId === d.origin) return false;
    if (d.targets.has(auth.sessionId)) return true;
    if (this.revoked(auth.sessionId)) return false;
    // A listed session that was not active at creation may still receive it when it returns.
    if (d.target.type === 'sessions') {
      return auth.userId === d.senderUserId && d.target.ids.includes(auth.sessionId);
    }
    return d.receiverUsers.has(auth.userId);
  }

  /** Handler runs that finished for `(sessionId, deliveryId)`. */
  handledCount(sessionId: string, deliveryId: string): number {
    return this.#handled.get(`${sessionId}|${deliveryId}`) ?? 0;
  }

  /** Handler runs started for `(sessionId, deliveryId)`. */
  offeredCount(sessionId: string, deliveryId: string): number {
    return this.#offered.get(`${sessionId}|${deliveryId}`) ?? 0;
  }

  /** A device's handler started for a delivery. */
  handlerStarted(auth: AuthSession, delivery: Delivery): void {
    const key = `${auth.sessionId}|${delivery.id}`;
    this.#offered.set(key, (this.#offered.get(key) ?? 0) + 1);
  }

  /** A device's handler finished for a delivery (its effect is done). */
  handlerFinished(auth: AuthSession, delivery: Delivery): void {
    const key = `${auth.sessionId}|${delivery.id}`;
    const count = (this.#handled.get(key) ?? 0) + 1;
    this.#handled.set(key, count);
    this.#o.counters.add('delivery.handled');
    const d = this.deliveries.get(delivery.id);
    if (count > 1) {
      this.#violate('handled-twice', `${auth.sessionId} handled ${delivery.id} ${count} times`);
    }
    if (d === undefined || !this.receives(d, auth)) {
      this.#violate(
        'handled-by-non-receiver',
        `${auth.sessionId} handled ${delivery.id}, which it does not receive`,
      );
    } else if (!d.targets.has(auth.sessionId)) {
      this.#o.counters.add('session.later-session-handled');
    }
  }

  /**
   * The server was called outside the network (an outsider's request, an operator's read) and
   * may have settled deliveries at now: note what was completable.
   */
  serverCalled(): void {
    this.#touchAll(this.#o.now());
  }

  /** The network reports a call the server handled. */
  handled(call: HandledCall): void {
    const now = this.#o.now();
    // The server may settle any delivery while it answers any call (the in-memory one settles
    // every delivery once one completes or expires): note what was completable before and after.
    this.#touchAll(now);
    this.#apply(call, now);
    this.#touchAll(now);
  }

  #apply(call: HandledCall, now: number): void {
    const { auth, outcome } = call;
    switch (call.kind) {
      case 'heartbeat': {
        if (!outcome.ok) return;
        const body = call.body as { clientId: string };
        for (const [id, s] of this.#sessions) {
          if (
            s.userId === auth.userId &&
            s.clientId === body.clientId &&
            id !== auth.sessionId &&
            s.revokedAt === undefined
          ) {
            s.revokedAt = now;
            this.#o.counters.add('session.replaced');
          }
        }
        const previous = this.#sessions.get(auth.sessionId);
        this.#sessions.set(auth.sessionId, {
          userId: auth.userId,
          clientId: body.clientId,
          lastSeen: now,
          ...(previous?.revokedAt === undefined ? {} : { revokedAt: previous.revokedAt }),
        });
        return;
      }
      case 'revoke': {
        if (!outcome.ok) return;
        const target = call.body as string | null;
        for (const [id, s] of this.#sessions) {
          if (s.userId === auth.userId && (target === null || id === target)) s.revokedAt ??= now;
        }
        this.#o.counters.add('session.revoked');
        this.#touchAll(now);
        return;
      }
      case 'send':
        if (outcome.ok) this.#created(auth, call.body as SendBody, outcome.value as Delivery, now);
        return;
      case 'ack':
        this.#acked(auth, call.body as string, outcome, now, call.primary);
        return;
      case 'pending':
        if (outcome.ok) this.#pending(auth, outcome.value as Delivery[], now);
        return;
      default:
        return; // a session list, or an asset call (the asset checks judge those)
    }
  }

  /**
   * Compares the server's truth about `d` (settled at now) with the model. `status` is
   * `undefined` when the server does not know the delivery.
   */
  audit(d: ModelDelivery, status: DeliveryStatus | undefined): void {
    const now = this.#o.now();
    this.#touch(d, now);
    if (status === undefined) {
      this.#violate('targets', `the server lost delivery ${d.id}`);
      return;
    }
    const targets = [...status.targets].sort().join(',');
    if (targets !== [...d.targets].sort().join(',')) {
      this.#violate(
        'targets',
        `${d.id} targets changed to [${targets}] from [${[...d.targets].sort().join(',')}]`,
      );
    }
    // Every ack the server holds is one the model saw taken (none forged, none from outside).
    const acked = [...status.acked].sort().join(',');
    const modelAcked = [...d.acks.keys()].sort().join(',');
    if (status.acked.some((s) => !d.acks.has(s))) {
      this.#violate(
        'non-receiver-ack',
        `${d.id} acked by [${acked}] on the server, but the acknowledgements that were taken are [${modelAcked}]`,
      );
    }
    this.#checkCompletion(d, status.complete, now, 'audit');
    if (status.expired && now < d.expiresAt) {
      this.#violate('expiry', `${d.id} expired ${d.expiresAt - now} ms before its TTL`);
    }
    if (status.expired && status.complete)
      this.#violate('expiry', `${d.id} is both complete and expired`);
    if (!status.expired && !status.complete && now >= d.expiresAt) {
      this.#violate(
        'expiry',
        `${d.id} is past its TTL by ${now - d.expiresAt} ms and neither expired nor complete`,
      );
    }
    if (d.expired && !status.expired) this.#violate('expiry', `${d.id} came back from expiry`);
    if (status.expired && !d.expired) {
      d.expired = true;
      this.#o.counters.add('delivery.expired');
    }
  }

  /**
   * Every target that stayed active has handled the live `d` exactly once (`handled`), or, for
   * a kind every handler refuses, has at least been offered it (`offered`).
   */
  checkNoneLost(d: ModelDelivery, mode: 'handled' | 'offered'): void {
    const now = this.#o.now();
    if (now >= d.expiresAt || d.expired) return;
    for (const target of d.targets) {
      if (!this.active(target, now)) continue;
      if (mode === 'offered') {
        if (this.offeredCount(target, d.id) === 0) {
          this.#violate('lost', `${target} was never offered ${d.id}, though it stayed active`);
        }
      } else if (this.handledCount(target, d.id) !== 1) {
        this.#violate(
          'lost',
          `${target} never handled ${d.id} (${this.offeredCount(target, d.id)} handler starts), though it stayed active`,
        );
      }
    }
    // A handled delivery is acknowledged: once the network heals, the server holds the ack.
    if (mode === 'handled' && !d.complete) {
      for (const target of d.targets) {
        if (
          this.handledCount(target, d.id) > 0 &&
          !d.acks.has(target) &&
          this.active(target, now)
        ) {
          this.#violate(
            'unacknowledged',
            `${target} handled ${d.id} but the server never got its ack`,
          );
        }
      }
    }
  }

  #created(auth: AuthSession, body: SendBody, answer: Delivery, now: number): void {
    if (this.deliveries.has(answer.id)) return;
    const receiverUsers =
      body.target.type === 'otherSessions'
        ? new Set([auth.userId])
        : body.target.type === 'scopeMembers'
          ? new Set(this.#o.members[body.scope] ?? [])
          : new Set<string>();
    const expected = new Set<string>();
    for (const [id, s] of this.#sessions) {
      if (id === auth.sessionId || !this.active(id, now)) continue;
      const listed =
        body.target.type === 'sessions'
          ? body.target.ids.includes(id)
          : receiverUsers.has(s.userId);
      if (listed) expected.add(id);
    }
    const targets = new Set(answer.targetSessionIds ?? []);
    const d: ModelDelivery = {
      id: answer.id,
      kind: answer.kind,
      senderUserId: auth.userId,
      origin: auth.sessionId,
      target: body.target,
      ...(body.assetHash === undefined ? {} : { assetHash: body.assetHash }),
      createdAt: answer.createdAt,
      expiresAt: answer.expiresAt,
      targets,
      receiverUsers,
      acks: new Map(),
      complete: false,
      expired: false,
    };
    this.deliveries.set(d.id, d);
    this.#o.counters.add('delivery.created');
    this.#o.counters.add(`target.${body.target.type}`);
    if (targets.size === 0) this.#o.counters.add('delivery.no-targets');
    if ([...expected].sort().join(',') !== [...targets].sort().join(',')) {
      this.#violate(
        'targets',
        `${d.id} (${body.target.type}) targets [${[...targets].sort().join(',')}], expected the active [${[...expected].sort().join(',')}]`,
      );
    }
    if (answer.createdAt !== now || answer.expiresAt !== now + body.ttlSeconds * 1000) {
      this.#violate(
        'expiry',
        `${d.id} created at ${answer.createdAt} expiring ${answer.expiresAt}; expected ${now} + ${body.ttlSeconds} s`,
      );
    }
  }

  #acked(
    auth: AuthSession,
    id: string,
    outcome: HandledCall['outcome'],
    now: number,
    primary: boolean,
  ): void {
    const d = this.deliveries.get(id);
    if (!outcome.ok) {
      const status = isSyncError(outcome.error) ? outcome.error.status : undefined;
      if (d === undefined || status === 401) return;
      if (this.receives(d, auth) && now < d.expiresAt && !this.revoked(auth.sessionId)) {
        this.#violate(
          'ack-refused',
          `${auth.sessionId}'s ack of ${id} was refused (${String(outcome.error)}) though it receives the live delivery`,
        );
      }
      return;
    }
    if (d === undefined) {
      this.#violate('non-receiver-ack', `an ack of the unknown delivery ${id} was taken`);
      return;
    }
    if (!this.receives(d, auth)) {
      this.#violate(
        'non-receiver-ack',
        `${auth.sessionId}, which does not receive ${id}, had its ack taken`,
      );
    }
    this.#touch(d, now);
    if (now >= d.expiresAt) {
      this.#violate(
        'acked-after-expiry',
        `${auth.sessionId}'s ack of ${id} was taken ${now - d.expiresAt} ms after its TTL`,
      );
    }
    // The server keeps no ack that arrives after completion.
    if (!d.acks.has(auth.sessionId)) {
      if (!d.complete) d.acks.set(auth.sessionId, now);
    } else if (!primary) this.#o.counters.add('ack.duplicate-request');
    this.#touch(d, now);
    this.#checkCompletion(d, (outcome.value as { complete: boolean }).complete, now, 'ack answer');
  }

  #pending(auth: AuthSession, list: readonly Delivery[], now: number): void {
    const listed = new Set(list.map((d) => d.id));
    for (const delivery of list) {
      const d = this.deliveries.get(delivery.id);
      if (d === undefined || !this.receives(d, auth)) {
        this.#violate(
          'pending',
          `${auth.sessionId} was offered ${delivery.id}, which it does not receive`,
        );
      } else if (now >= d.expiresAt) {
        this.#violate(
          'pending',
          `${auth.sessionId} was offered ${delivery.id} ${now - d.expiresAt} ms after its TTL`,
        );
      } else if (d.acks.has(auth.sessionId)) {
        this.#violate(
          'pending',
          `${auth.sessionId} was offered ${delivery.id} again after its ack was taken`,
        );
      }
    }
    for (const d of this.deliveries.values()) {
      this.#touch(d, now);
      if (!d.targets.has(auth.sessionId) || d.acks.has(auth.sessionId) || now >= d.expiresAt)
        continue;
      if (d.completableAt !== undefined) continue;
      if (!listed.has(d.id)) {
        this.#violate(
          'pending',
          `${auth.sessionId}'s pending list misses ${d.id}, which it still owes`,
        );
      }
    }
  }

  /** Every still-active target acknowledged (a delivery with no targets: someone did). */
  #completable(d: ModelDelivery, at: number): boolean {
    if (at >= d.expiresAt) return false;
    if (d.targets.size === 0) return d.acks.size > 0;
    for (const t of d.targets) if (!d.acks.has(t) && this.active(t, at)) return false;
    return true;
  }

  #touch(d: ModelDelivery, now: number): void {
    if (d.completableAt === undefined && this.#completable(d, now)) d.completableAt = now;
  }

  #touchAll(now: number): void {
    for (const d of this.deliveries.values()) this.#touch(d, now);
  }

  #checkCompletion(d: ModelDelivery, complete: boolean, now: number, where: string): void {
    if (complete && (d.completableAt === undefined || d.completableAt >= d.expiresAt)) {
      const waiting = [...d.targets].filter((t) => !d.acks.has(t) && this.active(t, now));
      this.#violate(
        'completed-early',
        `${d.id} is complete (${where}) while active targets [${waiting.join(',')}] never acknowledged (targets [${[...d.targets].join(',')}], acks [${[...d.acks.keys()].join(',')}], ${now < d.expiresAt ? `${d.expiresAt - now} ms before` : `${now - d.expiresAt} ms after`} its TTL)`,
      );
    }
    if (!complete && this.#completable(d, now)) {
      this.#violate(
        'completion-missing',
        `${d.id} is not complete (${where}) though every still-active target acknowledged (targets [${[...d.targets].join(',')}], not acknowledged by the inactive [${[...d.targets].filter((t) => !d.acks.has(t)).join(',')}])`,
      );
    }
    if (d.complete && !complete)
      this.#violate('completed-early', `${d.id} was complete and is not any more`);
    if (complete && !d.complete) {
      d.complete = true;
      this.#o.counters.add('delivery.completed');
      const stale = [...d.targets].filter((t) => !d.acks.has(t));
      if (stale.length > 0) this.#o.counters.add('delivery.completed-without-inactive-target');
    }
  }

  #violate(rule: DeliveryRule, message: string): void {
    this.#o.violate({ rule, message, at: this.#o.virtualNow() });
  }
}

interface SendBody {
  scope: string;
  assetHash?: string;
  target: DeliveryTarget;
  ttlSeconds: number;
}
