import { SyncError } from '../errors/sync-error.js';
import type { DeliveryHandler } from './inbox.js';

/** The third argument of `client.on('delivery', listener, options)`. */
export interface DeliveryListenerOptions {
  /**
   * Listen for deliveries of this kind only (e.g. `'chat'`). A delivery is handed only to the
   * listeners of its kind and to those of every kind, and acknowledged only once one of them
   * handled it: a delivery of a kind nobody listens for waits, unacknowledged, until a
   * listener of its kind (or of every kind) is added.
   * @default every kind
   */
  kind?: string | undefined;
}

/** The kinds the `delivery` listeners of one tab take. */
export interface ListenedKinds {
  /** A listener takes every kind. */
  all: boolean;
  /** The kinds listened for by kind-scoped listeners (in the order first added). */
  kinds: string[];
}

interface Registration {
  readonly listener: DeliveryHandler;
  /** `undefined`: every kind. */
  readonly kind: string | undefined;
}

/**
 * A client's `delivery` listeners, each of one kind or of every kind. Kept apart from the
 * client's other events: deliveries are not emitted but handed to the listeners of their kind
 * by the inbox, which acknowledges one only when such a listener handled it.
 */
export class DeliveryListeners {
  // Replaced, never changed in place, so a delivery being handed over keeps its snapshot.
  #registrations: readonly Registration[] = [];

  /**
   * Adds `listener`, for deliveries of `options.kind` or of every kind.
   * @throws SyncError `invalid` when `kind` is given but is not a non-empty string
   */
  add(listener: DeliveryHandler, options: DeliveryListenerOptions = {}): void {
    const { kind } = options;
    if (kind !== undefined && (typeof kind !== 'string' || kind.length === 0)) {
      throw new SyncError('invalid', 'A delivery listener kind must be a non-empty string');
    }
    this.#registrations = [...this.#registrations, { listener, kind }];
  }

  /** Removes every registration of `listener`, whatever its kind. */
  remove(listener: DeliveryHandler): void {
    this.#registrations = this.#registrations.filter((r) => r.listener !== listener);
  }

  /** The listeners a delivery of `kind` is handed to (of that kind or of every kind), in order. */
  of(kind: string): DeliveryHandler[] {
    return this.#registrations
      .filter((r) => r.kind === undefined || r.kind === kind)
      .map((r) => r.listener);
  }

  /** What the listeners take: every kind, and the kinds of kind-scoped listeners. */
  listened(): ListenedKinds {
    const kinds: string[] = [];
    for (const { kind } of this.#registrations) {
      if (kind !== undefined && !kinds.includes(kind)) kinds.push(kind);
    }
    return { all: this.#registrations.some((r) => r.kind === undefined), kinds };
  }
}

/** Whether a tab listening for `listened` takes a delivery of `kind`. */
export function listensFor(listened: ListenedKinds, kind: string): boolean {
  return listened.all || listened.kinds.includes(kind);
}
