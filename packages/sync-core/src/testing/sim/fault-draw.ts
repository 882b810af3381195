/**
 * The fault draw of a simulated link, shared by the record simulation's network
 * (`network.ts`) and the delivery simulation's (`deliveries/link.ts`): what happens to one
 * request (dropped, answered 503, answered 429, delivered once or twice), whether its answer is
 * lost, whether a hint is lost, and each one-way delay. The order of the draws from the run's
 * random stream is part of every seed's behaviour: keep it when changing this module.
 *
 * @module
 */
import type { SimCounters } from './counters.js';
import type { SimRandom } from './sim-random.js';

/** The per-seed fault rates both links draw requests' fates from. */
export interface RequestFaultRates {
  /** A request never reaches the server. */
  drop: number;
  /** The request is answered 503 without reaching the server's store. */
  serverError: number;
  /** The request is answered 429 with a `Retry-After` (absent: never, and no draw). */
  rateLimited?: number;
  /** A request reaches the server twice (0–2 s apart). */
  duplicate: number;
  /** The server handles a request but its answer is lost. */
  responseLost: number;
  /** Largest one-way delay in ms; delays are uniform below it, so messages reorder. */
  maxDelayMs: number;
}

/** What the link does with one request. */
export type RequestFate =
  | { type: 'dropped' }
  | { type: 'server-error'; delayMs: number }
  | { type: 'rate-limited'; retryAfterMs: number; delayMs: number }
  | {
      type: 'delivered';
      /** When the request reaches the server. */
      delayMs: number;
      /** When its duplicate reaches the server, if it has one. */
      duplicateAfterMs: number | undefined;
    };

/** A request as the trace names it. */
export interface RequestLabel {
  kind: string;
  deviceId: string;
}

/** Draws faults from one link's random stream, counting and tracing each that fires. */
export class FaultDraw {
  readonly #random: SimRandom;
  readonly #counters: SimCounters;
  readonly #trace: (line: string) => void;

  constructor(options: {
    random: SimRandom;
    counters: SimCounters;
    trace: (line: string) => void;
  }) {
    this.#random = options.random;
    this.#counters = options.counters;
    this.#trace = options.trace;
  }

  /**
   * One-way delay: up to `faults.maxDelayMs` (at least 5) while faults are on, else up to 20 ms.
   * `faults` is `undefined` while they are off.
   */
  delay(faults: Pick<RequestFaultRates, 'maxDelayMs'> | undefined): number {
    const max = faults === undefined ? 20 : Math.max(5, faults.maxDelayMs);
    const delay = 1 + this.#random.int(Math.max(1, Math.floor(max)));
    if (faults !== undefined && delay > 200) this.#counters.add('fault.delay');
    return delay;
  }

  /** The fate of a request made now; `faults` is `undefined` while they are off. */
  request(faults: RequestFaultRates | undefined, label: RequestLabel): RequestFate {
    if (faults !== undefined && this.#random.chance(faults.drop)) {
      this.#counters.add('fault.drop');
      this.#trace(`drop ${label.kind} ${label.deviceId}`);
      return { type: 'dropped' };
    }
    if (faults !== undefined && this.#random.chance(faults.serverError)) {
      this.#counters.add('fault.5xx');
      return { type: 'server-error', delayMs: this.delay(faults) };
    }
    const rateLimited = faults?.rateLimited;
    if (faults !== undefined && rateLimited !== undefined && this.#random.chance(rateLimited)) {
      this.#counters.add('fault.429');
      const retryAfterMs = 1000 * (1 + this.#random.int(10));
      return { type: 'rate-limited', retryAfterMs, delayMs: this.delay(faults) };
    }
    const delayMs = this.delay(faults);
    let duplicateAfterMs: number | undefined;
    if (faults !== undefined && this.#random.chance(faults.duplicate)) {
      this.#counters.add('fault.duplicate');
      duplicateAfterMs = this.#random.int(2000);
    }
    return { type: 'delivered', delayMs, duplicateAfterMs };
  }

  /**
   * Whether the answer to a request the server handled is lost on its way back, under the
   * `faults` of the moment the request was made; counted as `counter`.
   */
  answerLost(faults: RequestFaultRates | undefined, label: RequestLabel, counter: string): boolean {
    if (faults === undefined || !this.#random.chance(faults.responseLost)) return false;
    this.#counters.add(counter);
    this.#trace(`response-lost ${label.kind} ${label.deviceId}`);
    return true;
  }

  /** Whether a hint (a poke, a session event) is lost, at `rate` while `on`; counted as `counter`. */
  hintLost(on: boolean, rate: number, counter: string): boolean {
    if (!on || !this.#random.chance(rate)) return false;
    this.#counters.add(counter);
    return true;
  }
}
