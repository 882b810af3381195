/**
 * A small seeded PRNG for faults and the simulator: the same seed gives the same run.
 *
 * @module
 */

/** A source of uniform numbers in `[0, 1)`, shaped like `Math.random`. */
export type Random = () => number;

/**
 * Creates a seeded pseudo-random generator (xoshiro128**, seeded through splitmix32), returning
 * numbers in `[0, 1)` like `Math.random`. Not for cryptography. The same seed always gives the
 * same sequence, on every platform (only 32-bit integer arithmetic).
 *
 * @param seed - any number; its low 32 bits are used, so `1` and `2 ** 32 + 1` are one seed
 * @example
 * ```ts
 * const random = createRandom(42);
 * const coin = random() < 0.5;
 * ```
 */
export function createRandom(seed: number): Random {
  let s = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  // xoshiro's state must not be all zero; splitmix32 makes that practically impossible, but
  // a guard costs nothing.
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 0x1_0000_0000;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * An integer in `[min, max]` (both inclusive) drawn from `random`.
 *
 * @example
 * ```ts
 * const delay = randomInt(createRandom(1), 10, 50);
 * ```
 */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
