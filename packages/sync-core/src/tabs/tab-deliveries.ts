import type { DeliveryHandler, IncomingDelivery } from '../deliveries/inbox.js';
import { deliveryHandled, markDeliveryHandled } from '../deliveries/inbox.js';
import { type ListenedKinds, listensFor } from '../deliveries/listeners.js';
import { SyncError } from '../errors/sync-error.js';
import type { Delivery } from '../protocol/types.js';
import type { DeliveryMessage } from './tab-messages.js';
import type { TargetingLink, TargetingParts } from './targeting-parts.js';

/** What the leader knows of a follower's `delivery` listeners. */
interface Follower {
  /** The kinds its listeners take. */
  listened: ListenedKinds;
  /** Deliveries its listeners are running. */
  handling: Set<string>;
  /** When the leader last heard from it. */
  seen: number;
}

interface Forward {
  to: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** The follower running a delivery went away (closed, crashed): route it again. */
class TabGone extends Error {}

/**
 * A delivery reaches the session once, so once across the tabs that share the session: the
 * leader's inbox lists and acknowledges it, and one tab's `delivery` listeners run it. That is
 * the tab already running it (a leader change while a follower ran it), else the leader when it
 * has listeners of the delivery's kind (or of every kind), else a follower that has; when no tab
 * has, the inbox leaves it unacknowledged until one announces such a listener. A follower marks the delivery handled in storage
 * itself before it answers, so a new leader finds the mark and does not run it again. A follower
 * silent for the leader timeout (closed, crashed) fails the run: the inbox offers it again.
 */
export class TabDeliveries {
  readonly #parts: TargetingParts;
  readonly #link: TargetingLink;
  /** Leader: followers by tab id. */
  readonly #followers = new Map<string, Follower>();
  /** Leader: deliveries run by a follower, by delivery id. */
  readonly #forwards = new Map<string, Forward>();
  /** Deliveries this tab's listeners run for a leader, by id. */
  readonly #handling = new Map<string, Promise<void>>();
  /** Leader: routing waits for it (the followers saying what they run after a leader change). */
  #ready: Promise<void> = Promise.resolve();
  #open: () => void = () => {};
  #close: (error: unknown) => void = () => {};

  constructor(parts: TargetingParts, link: TargetingLink) {
    this.#parts = parts;
    this.#link = link;
  }

  /** Leader: the inbox's handlers of `delivery`, given this tab's own listeners of its kind. */
  handlers(delivery: Delivery, own: readonly DeliveryHandler[]): readonly DeliveryHandler[] {
    const { id, kind } = delivery;
    const followers = [...this.#followers.values()];
    if (
      own.length === 0 &&
      !this.#handling.has(id) &&
      !followers.some((f) => f.handling.has(id) || listensFor(f.listened, kind))
    ) {
      return own; // nobody listens for its kind: the inbox leaves it until a tab does
    }
    return [(event) => this.#route(event, own)];
  }

  /**
   * This tab starts serving as the leader. The followers answer its `leader` message with what
   * they run; deliveries are routed one ping period later, so one a follower is still running
   * (it led to the leader change) is not run again here.
   */
  leading(): void {
    this.#link.env.setTimeout(this.#open, Math.max(100, this.#link.timeoutMs / 4));
  }

  /** Leader: a message from tab `from` proves it alive. */
  heard(from: string): void {
    const follower = this.#followers.get(from);
    if (follower !== undefined) follower.seen = this.#link.env.now();
  }

  /** Leader: fails the runs of followers silent for the timeout (checked on the link's timer). */
  tick(): void {
    const now = this.#link.env.now();
    for (const [id, forward] of this.#forwards) {
      const follower = this.#followers.get(forward.to);
      if (follower !== undefined && now - follower.seen < this.#link.timeoutMs) continue;
      this.#followers.delete(forward.to);
      this.#forwards.delete(id);
      forward.reject(new TabGone());
    }
  }

  /** Follower: tells the leader which kinds this tab listens for and what it runs. */
  announce(): void {
    if (this.#link.serving()) return;
    const { all, kinds } = this.#parts.listened();
    this.#link.post({
      t: 'listening',
      from: this.#link.tabId,
      on: all || kinds.length > 0,
      ...(all ? {} : { kinds }),
      handling: [...this.#handling.keys()],
    });
  }

  /** The role changed: a deposed leader's forwarded runs end (the new leader routes them). */
  roleChanged(): void {
    const stopped = new SyncError('invalid', 'This tab stopped leading');
    for (const forward of this.#forwards.values()) forward.reject(stopped);
    this.#forwards.clear();
    this.#followers.clear();
    this.#close(stopped); // routes waiting in a tab deposed before it served end
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#close = reject;
    });
    this.#ready.catch(() => {});
  }

  /** A delivery message from another tab. */
  onMessage(message: DeliveryMessage): void {
    const serving = this.#link.serving();
    if (message.t === 'deliver') {
      if (!serving && message.to === this.#link.tabId) this.#run(message.delivery, message.session);
    } else if (!serving) {
      return;
    } else if (message.t === 'listening') {
      const before = this.#followers.get(message.from)?.listened;
      // Without `kinds` (no kind-scoped listeners, or a tab of an older version): every kind.
      const listened: ListenedKinds = {
        all: message.on && message.kinds === undefined,
        kinds: message.on ? (message.kinds ?? []) : [],
      };
      this.#followers.set(message.from, {
        listened,
        handling: new Set(message.handling),
        seen: this.#link.env.now(),
      });
      // Deliveries that waited for a listener of a kind it now takes are offered.
      const gained =
        (listened.all && before?.all !== true) ||
        listened.kinds.some((kind) => before === undefined || !listensFor(before, kind));
      if (gained) this.#parts.services.handlersChanged();
    } else {
      for (const follower of this.#followers.values()) follower.handling.delete(message.id);
      const forward = this.#forwards.get(message.id);
      if (forward === undefined) return;
      this.#forwards.delete(message.id);
      if (message.error === undefined) forward.resolve();
      else forward.reject(new Error(message.error));
    }
  }

  async #route(event: IncomingDelivery, own: readonly DeliveryHandler[]): Promise<void> {
    await this.#ready;
    const { id, kind } = event.delivery;
    const here = this.#handling.get(id);
    if (here !== undefined) return here; // run here while this tab was a follower
    // A follower finished it while this tab waited (it marks it before it answers).
    if (await deliveryHandled(this.#parts.storage, this.#parts.sessionId() ?? '', id)) return;
    for (;;) {
      let target: string | undefined;
      let busy: string | undefined;
      for (const [tab, follower] of this.#followers) {
        if (follower.handling.has(id)) busy ??= tab;
        if (listensFor(follower.listened, kind)) target ??= tab;
      }
      if (busy === undefined && own.length > 0) {
        await Promise.all(own.map((handler) => handler(event)));
        return;
      }
      target = busy ?? target;
      if (target === undefined) {
        throw new SyncError('invalid', `No tab listens for deliveries of kind ${kind}`);
      }
      try {
        await this.#forward(target, event);
        return;
      } catch (error) {
        if (!(error instanceof TabGone)) throw error;
      }
    }
  }

  #forward(to: string, event: IncomingDelivery): Promise<void> {
    const { delivery } = event;
    return new Promise<void>((resolve, reject) => {
      this.#forwards.get(delivery.id)?.reject(new SyncError('invalid', 'Routed again'));
      this.#forwards.set(delivery.id, { to, resolve, reject });
      this.#link.post({
        t: 'deliver',
        from: this.#link.tabId,
        to,
        delivery,
        session: this.#parts.sessionId() ?? '',
      });
    });
  }

  /** Follower: runs this tab's listeners for the leader; answers when they finish or ack. */
  #run(delivery: Delivery, session: string): void {
    const id = delivery.id;
    if (this.#handling.has(id)) return; // its end answers
    const listeners = this.#parts.listeners(delivery.kind);
    const answer = (error?: string): void =>
      this.#link.post({
        t: 'delivered',
        from: this.#link.tabId,
        id,
        ...(error === undefined ? {} : { error }),
      });
    if (listeners.length === 0) {
      answer(`No listener of deliveries of kind ${delivery.kind} in this tab`);
      return;
    }
    let acked: Promise<void> | null = null;
    const ack = (): Promise<void> => {
      acked ??= markDeliveryHandled(this.#parts.storage, session, delivery).then(
        () => answer(),
        (error: unknown) => {
          answer(String(error)); // not marked: the leader offers it again
          throw error;
        },
      );
      return acked;
    };
    const run = Promise.all(listeners.map((listener) => listener({ delivery, ack })))
      .then(ack)
      .catch((error: unknown) => {
        if (acked !== null) return;
        this.#parts.deliveryFailed(error, delivery);
        answer(String(error));
      })
      .finally(() => this.#handling.delete(id));
    this.#handling.set(id, run);
  }
}
