/**
 * Virtual time and the one event queue of a simulation run.
 *
 * Events are ordered by `(time, seq)`: `seq` is a global insertion counter, so two events due at
 * the same virtual millisecond run in the order they were scheduled, and a run is a pure function
 * of its seed. Between two events the queue lets every pending promise continuation run (the
 * client is async), and it waits for tracked out-of-process work (a PGlite query) to settle, so
 * nothing real ever races virtual time.
 *
 * @module
 */

/** A handle of a scheduled event; pass it to {@link SimScheduler.cancel}. */
export type SimTimer = number;

interface SimEvent {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/** Yields to the host event loop once, so that every queued microtask chain runs to its end. */
const yieldToHost: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () => new Promise<void>((resolve) => globalThis.setTimeout(resolve, 0));

/**
 * A binary-heap event queue over virtual milliseconds. Nothing in it reads a real clock.
 */
export class SimScheduler {
  #now = 0;
  #seq = 0;
  #heap: SimEvent[] = [];
  readonly #pending = new Map<number, SimEvent>();
  readonly #tracked = new Set<Promise<unknown>>();
  #executed = 0;

  /** Virtual time in milliseconds since the start of the run. */
  get now(): number {
    return this.#now;
  }

  /** Events run so far. */
  get executed(): number {
    return this.#executed;
  }

  /** Events waiting to run. */
  get size(): number {
    return this.#pending.size;
  }

  /** Runs `run` after `delayMs` virtual milliseconds (at least 0); returns a cancel handle. */
  schedule(delayMs: number, run: () => void): SimTimer {
    // Whole milliseconds, as real timers and clocks have (a jittered backoff may ask for 12.7).
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? Math.ceil(delayMs) : 0;
    const event: SimEvent = { time: this.#now + delay, seq: this.#seq++, run, cancelled: false };
    this.#pending.set(event.seq, event);
    this.#push(event);
    return event.seq;
  }

  /** Cancels a scheduled event; a no-op for one that already ran. */
  cancel(timer: SimTimer): void {
    const event = this.#pending.get(timer);
    if (event === undefined) return;
    event.cancelled = true;
    this.#pending.delete(timer);
  }

  /**
   * Registers out-of-process work (e.g. a PGlite query) that the queue must wait for before it
   * advances time, so its completion lands at a deterministic point.
   */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#tracked.add(promise);
    const forget = () => this.#tracked.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Lets pending continuations and tracked work settle without advancing time. */
  async settle(): Promise<void> {
    await yieldToHost();
    while (this.#tracked.size > 0) {
      await Promise.allSettled([...this.#tracked]);
      await yieldToHost();
    }
  }

  /**
   * Runs events in order until `until` (virtual ms) is passed, the queue is empty, or `stop`
   * returns true (checked after each event). Returns `true` if `stop` ended the run.
   */
  async run(options: { until: number; stop?: () => boolean }): Promise<boolean> {
    await this.settle();
    for (;;) {
      if (options.stop?.()) return true;
      const next = this.#peek();
      if (next === undefined || next.time > options.until) {
        this.#now = Math.max(this.#now, Math.min(options.until, next?.time ?? options.until));
        return false;
      }
      this.#pop();
      this.#pending.delete(next.seq);
      this.#now = next.time;
      this.#executed++;
      next.run();
      await this.settle();
    }
  }

  #peek(): SimEvent | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || !top.cancelled) return top;
      this.#pop();
    }
  }

  #push(event: SimEvent): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent] as SimEvent)) break;
      heap[i] = heap[parent] as SimEvent;
      i = parent;
    }
    heap[i] = event;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && before(heap[right] as SimEvent, heap[left] as SimEvent) ? right : left;
      if (!before(heap[child] as SimEvent, last)) break;
      heap[i] = heap[child] as SimEvent;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
