/** Any event listener. */
type Listener = (...args: never[]) => unknown;

interface Registration {
  readonly listener: Listener;
  readonly once: boolean;
}

/**
 * A small typed event emitter (the client's and `client.sessions`' events). Listeners run in
 * the order they were added, on a snapshot of the list: one added or removed while an event is
 * being emitted takes effect from the next emit. An error thrown by a listener reaches the
 * caller of `emit`, as with Node's `EventEmitter`.
 */
export class Emitter<Events extends { [E in keyof Events]: Listener }> {
  readonly #registrations = new Map<keyof Events, Registration[]>();

  /** Adds `listener` for `event`. */
  on<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.#add(event, { listener, once: false });
  }

  /** Adds `listener` for the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.#add(event, { listener, once: true });
  }

  /** Removes every registration of `listener` for `event`. */
  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.#keep(event, (registration) => registration.listener !== listener);
  }

  /** Calls the listeners of `event` with `args`; `true` when there was one. */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const list = this.#registrations.get(event) ?? [];
    for (const registration of list) {
      if (registration.once) this.#keep(event, (r) => r !== registration);
      (registration.listener as (...args: Parameters<Events[E]>) => unknown)(...args);
    }
    return list.length > 0;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#registrations.get(event)?.length ?? 0;
  }

  // Lists are replaced, never changed in place, so an emit in progress keeps its snapshot.
  #add(event: keyof Events, registration: Registration): void {
    this.#registrations.set(event, [...(this.#registrations.get(event) ?? []), registration]);
  }

  /**
   * Keeps the registrations of `event` that `keep` accepts (an event whose listeners all left
   * keeps an empty list: one per event name, which `emit` and `listenerCount` read as none).
   */
  #keep(event: keyof Events, keep: (registration: Registration) => boolean): void {
    this.#registrations.set(event, (this.#registrations.get(event) ?? []).filter(keep));
  }
}
