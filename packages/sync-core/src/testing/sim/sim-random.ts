/**
 * Draw helpers over one seeded source of uniform numbers in [0, 1). Every random choice of a
 * run (faults, workload, device environments) comes from a {@link SimRandom} forked from the
 * run's seed, so adding a draw in one part does not shift the draws of another.
 *
 * @module
 */

/** A seeded uniform source in [0, 1) and a way to make independent ones. */
export type RandomFactory = (seed: number) => () => number;

/** Seeded draws: integers, chances, picks, ranges, and independent child streams. */
export class SimRandom {
  readonly #next: () => number;
  readonly #factory: RandomFactory;

  /**
   * @param seed - the stream's seed
   * @param factory - makes the uniform source for a seed
   */
  constructor(seed: number, factory: RandomFactory) {
    this.#factory = factory;
    this.#next = factory(seed >>> 0);
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** A uniform number in [low, high). */
  range(low: number, high: number): number {
    return low + this.#next() * (high - low);
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.#next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('SimRandom.pick of an empty array');
    return items[this.int(items.length)] as T;
  }

  /** An independent stream, seeded from this one and a label (stable across code changes elsewhere). */
  fork(label: string): SimRandom {
    let hash = 0x811c9dc5;
    for (let i = 0; i < label.length; i++) {
      hash ^= label.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return new SimRandom((hash ^ Math.floor(this.#next() * 0x1_0000_0000)) >>> 0, this.#factory);
  }
}

/** mulberry32: small, fast, good enough for a simulator; the fallback {@link RandomFactory}. */
export const mulberry32: RandomFactory = (seed) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
