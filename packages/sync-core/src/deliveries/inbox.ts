import type { SyncEnvironment } from '../env/types.js';
import { appCallbackError } from '../errors/as-sync-error.js';
import { isSyncError } from '../errors/sync-error.js';
import { DEVICE_NAMESPACE } from '../ids/client-id.js';
import type { Delivery } from '../protocol/types.js';
import type { SignedInContext } from '../sessions/client-sessions.js';
import type { StorageAdapter } from '../storage/types.js';
import type { DeliveryTransport } from '../transport/types.js';
import type { LockManagerLike } from './locks.js';

/** What a `delivery` handler receives. */
export interface IncomingDelivery {
  /** The delivery. */
  delivery: Delivery;
  /**
   * Acknowledges the delivery now (idempotent). Without a call, it is acknowledged when the
   * handler's promise resolves; a handler that throws leaves it unacknowledged, and it is
   * offered again at the next catch-up.
   */
  ack(): Promise<void>;
}

/**
 * Handles one delivery. Runs once per delivery and session, across reloads, reconnections and
 * tabs: a delivery whose handler resolved (or called `ack`) is never handed over again.
 */
export type DeliveryHandler = (event: IncomingDelivery) => void | Promise<void>;

/** A delivery kind the client itself serves (a transfer request); the app never sees it. */
export type InternalDeliveryHandler = (delivery: Delivery, signal: AbortSignal) => Promise<boolean>;

/** Options of {@link DeliveryInbox}. */
export interface DeliveryInboxOptions {
  /** Injected time. */
  env: SyncEnvironment;
  /** Where handled and acknowledged ids are kept (the device namespace). */
  storage: StorageAdapter;
  /** The transport's delivery part. */
  transport: DeliveryTransport;
  /** Lets one tab at a time handle a delivery. */
  locks: LockManagerLike;
  /**
   * The app's handlers of `delivery` (the listeners of its kind and of every kind), read at
   * each delivery. None: the delivery is left unacknowledged, for a later catch-up.
   */
  handlers(delivery: Delivery): readonly DeliveryHandler[];
  /**
   * Runs before the app's handlers (e.g. fetches the delivery's asset). Resolves `false` to
   * leave the delivery for a later catch-up.
   */
  prepare(delivery: Delivery, signal: AbortSignal): Promise<boolean>;
  /** Handlers of internal kinds; resolve `true` when served (then it is acknowledged). */
  internal: ReadonlyMap<string, InternalDeliveryHandler>;
  /** A handler or a preparation failed; the delivery will be offered again. */
  onError(error: unknown, delivery: Delivery): void;
}

type Entry = { state: 'handled'; expiresAt: number } | { state: 'acked'; expiresAt: number };

const PREFIX = 'delivery/';

/**
 * Receives deliveries for the signed-in session: lists the pending ones (at sign-in, on every
 * reconnection and on each realtime hint), hands each to the handlers of its kind exactly once,
 * and acknowledges it durably. A delivery no handler takes (nobody listens for its kind) is not
 * acknowledged: it stays on the server and is taken at the catch-up after a listener is added.
 *
 * Exactly once: the id is written as `handled` in storage before the acknowledgement is sent,
 * and the acknowledgement is retried (after reloads too) until the server takes it; a
 * delivery found `handled` is never handed over again. A per-delivery lock (Web Locks in
 * browsers) keeps two tabs of one session from handling it at the same time. A crash while a
 * handler runs hands the delivery over again after the reload (the handler had not finished).
 */
export class DeliveryInbox {
  readonly #options: DeliveryInboxOptions;
  #context: SignedInContext | null = null;
  #refreshing: Promise<void> | null = null;
  #again = false;
  readonly #inFlight = new Set<string>();
  readonly #acking = new Set<string>();

  constructor(options: DeliveryInboxOptions) {
    this.#options = options;
  }

  /** Starts for `context`: resends acknowledgements a previous run left, then catches up. */
  async signedIn(context: SignedInContext): Promise<void> {
    this.#context = context;
    const entries = await this.#options.storage.list(DEVICE_NAMESPACE, this.#prefix(context));
    const now = this.#options.env.now();
    const expired: string[] = [];
    for (const [key, value] of entries) {
      const entry = value as Entry;
      // Only an acknowledged entry is forgotten at its expiry. A handled one waits for its ack
      // (or the server's 404 once the delivery expired): the TTL is judged on the server's
      // clock, and a device clock that runs ahead must not make it hand the delivery over again.
      if (entry.state === 'acked' && entry.expiresAt < now) expired.push(key);
      else if (entry.state === 'handled')
        void this.#sendAck(context, key.slice(this.#prefix(context).length), entry);
    }
    if (expired.length > 0) {
      await this.#options.storage.write(
        DEVICE_NAMESPACE,
        expired.map((key) => ({ type: 'delete' as const, key })),
      );
    }
    await this.refresh();
  }

  /** Stops receiving (work in flight ends at the context's abort). */
  signedOut(): void {
    this.#context = null;
  }

  /**
   * Lists pending deliveries and handles each new one. Calls while a listing runs are
   * coalesced into one more listing after it.
   */
  refresh(): Promise<void> {
    if (this.#refreshing !== null) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#catchUp();
        } while (this.#again && this.#context !== null);
      } finally {
        // In the same turn as the last check of #again: a hint arriving later starts anew.
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async #catchUp(): Promise<void> {
    const context = this.#context;
    if (context === null) return;
    let pending: Delivery[];
    try {
      pending = await context.retryer.run(
        () => this.#options.transport.pending(context.signal),
        context.signal,
      );
    } catch {
      return; // stopped, signed out or not retryable: the next hint or reconnection tries again
    }
    for (const delivery of pending) {
      if (this.#context !== context) return;
      this.#take(context, delivery);
    }
  }

  /**
   * Handles one delivery a realtime hint carried, as if a listing had found it (a delivery
   * already handled, or being handled, is not handed over again).
   */
  offer(delivery: Delivery): void {
    const context = this.#context;
    if (context !== null) this.#take(context, delivery);
  }

  #take(context: SignedInContext, delivery: Delivery): void {
    if (this.#inFlight.has(delivery.id)) return;
    const internal = this.#options.internal.get(delivery.kind);
    // Nobody listens for its kind: left on the server until someone does (then refreshed).
    if (internal === undefined && this.#options.handlers(delivery).length === 0) return;
    this.#inFlight.add(delivery.id);
    // Deliveries are independent: one slow handler (or download) does not hold the others.
    void this.#process(context, delivery, internal).finally(() =>
      this.#inFlight.delete(delivery.id),
    );
  }

  async #process(
    context: SignedInContext,
    delivery: Delivery,
    internal: InternalDeliveryHandler | undefined,
  ): Promise<void> {
    const key = this.#key(context, delivery.id);
    const lockName = `syncline:delivery:${context.session.sessionId}:${delivery.id}`;
    await this.#options.locks.request(lockName, async () => {
      const stored = (await this.#options.storage.get(DEVICE_NAMESPACE, key)) as Entry | undefined;
      if (stored !== undefined) {
        // Handled before (another tab, or before a reload): only the ack may be missing.
        if (stored.state === 'handled') void this.#sendAck(context, delivery.id, stored);
        return;
      }
      let acked: Promise<void> | null = null;
      const ack = (): Promise<void> => {
        acked ??= this.#markHandled(context, delivery);
        return acked;
      };
      try {
        if (internal !== undefined) {
          if (await internal(delivery, context.signal)) await ack();
          return;
        }
        if (!(await this.#options.prepare(delivery, context.signal))) return;
        if (this.#context !== context) return;
        const handlers = this.#options.handlers(delivery);
        if (handlers.length === 0) return;
        // The app's own failure is kind `app` (its error as `cause`), not a network error.
        await Promise.all(handlers.map(async (handler) => handler({ delivery, ack }))).catch(
          (error: unknown) => {
            throw appCallbackError(error);
          },
        );
        await ack();
      } catch (error) {
        if (!context.signal.aborted) this.#options.onError(error, delivery);
      }
    });
  }

  async #markHandled(context: SignedInContext, delivery: Delivery): Promise<void> {
    const entry = await markDeliveryHandled(
      this.#options.storage,
      context.session.sessionId,
      delivery,
    );
    void this.#sendAck(context, delivery.id, entry);
  }

  /**
   * Sends the acknowledgement until the server takes it. A `rejected` 404 `not_found` means the
   * delivery expired or is gone: nothing is left to acknowledge. Either way the id stays `acked`
   * until it expires, so a late listing cannot hand it over again. A `misconfigured` 404 (a
   * wrong baseUrl: no such route) is retried like any other failure until the setup is fixed.
   */
  async #sendAck(context: SignedInContext, id: string, entry: Entry): Promise<void> {
    if (this.#acking.has(id)) return;
    this.#acking.add(id);
    try {
      await context.retryer.run(async () => {
        try {
          await this.#options.transport.ack(id, context.signal);
        } catch (error) {
          if (!(isSyncError(error) && error.kind === 'rejected' && error.code === 'not_found'))
            throw error;
        }
      }, context.signal);
      await this.#options.storage.write(DEVICE_NAMESPACE, [
        {
          type: 'set',
          key: this.#key(context, id),
          value: { state: 'acked', expiresAt: entry.expiresAt } satisfies Entry,
        },
      ]);
    } catch {
      // Signed out or stopped: the `handled` entry makes the next sign-in send it again.
    } finally {
      this.#acking.delete(id);
    }
  }

  #prefix(context: SignedInContext): string {
    return `${PREFIX}${context.session.sessionId}/`;
  }

  #key(context: SignedInContext, id: string): string {
    return deliveryKey(context.session.sessionId, id);
  }
}

/**
 * Stores that `delivery` was handled in session `sessionId`: an inbox that finds the mark never
 * hands the delivery over again, it only sends the acknowledgement. A follower tab whose
 * listeners ran a delivery writes it too, so a new leader tab does not run it again.
 */
export async function markDeliveryHandled(
  storage: StorageAdapter,
  sessionId: string,
  delivery: Delivery,
): Promise<{ state: 'handled'; expiresAt: number }> {
  const entry: Entry & { state: 'handled' } = { state: 'handled', expiresAt: delivery.expiresAt };
  await storage.write(DEVICE_NAMESPACE, [
    { type: 'set', key: deliveryKey(sessionId, delivery.id), value: entry },
  ]);
  return entry;
}

/** Whether delivery `id` was handled (or acknowledged) in session `sessionId` on this device. */
export async function deliveryHandled(
  storage: StorageAdapter,
  sessionId: string,
  id: string,
): Promise<boolean> {
  return (await storage.get(DEVICE_NAMESPACE, deliveryKey(sessionId, id))) !== undefined;
}

function deliveryKey(sessionId: string, id: string): string {
  return `${PREFIX}${sessionId}/${id}`;
}
