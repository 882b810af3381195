import type { SyncEnvironment } from '../env/types.js';

/** Char codes of the lowercase hex digits, indexed by nibble. */
const HEX_CODES: number[] = [];
for (let i = 0; i < 16; i++) HEX_CODES.push(i.toString(16).charCodeAt(0));
const DASH = 0x2d;

/** The hex digit (as a char code) of the low 4 bits of `n`. */
function hex(n: number): number {
  return HEX_CODES[n & 0xf] as number;
}

/** Generates ids; one per client, so two clients never share state. */
export type IdGenerator = () => string;

/** Random bytes fetched at once and handed out 10 per id (one `getRandomValues` call per 25 ids). */
const POOL_BYTES = 250;

/**
 * A UUIDv7 generator (RFC 9562 §5.7) over the injected clock and random bytes (by default
 * `crypto.getRandomValues`: ids are unguessable, see `SyncEnvironment.randomBytes`).
 *
 * Layout: 48 bits of Unix milliseconds, version 7, 12 bits `rand_a`, variant `10`, 62 bits
 * `rand_b`. Within one millisecond `rand_a` is used as a counter (RFC 9562 §6.2 method 1), so
 * ids of one generator are strictly increasing even when many are made per millisecond or the
 * clock steps back: then the previous timestamp is kept and the counter carries into it.
 *
 * @param env - the clock (`now`) and random bytes (`randomBytes`) to use
 */
export function createUuidV7(env: Pick<SyncEnvironment, 'now' | 'randomBytes'>): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  // The generator's own pool (never shared between clients), refilled when used up.
  const pool = new Uint8Array(POOL_BYTES);
  let used = POOL_BYTES;
  return () => {
    if (used === POOL_BYTES) {
      env.randomBytes(pool);
      used = 0;
    }
    const at = used;
    used += 10;
    let ms = Math.floor(env.now());
    if (!Number.isFinite(ms) || ms < 0) ms = 0;
    // Up to 0x3ff: leaves headroom so the counter rarely overflows within a millisecond.
    const start = (((pool[at] as number) << 8) | (pool[at + 1] as number)) & 0x3ff;
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        // Counter exhausted within one millisecond: borrow the next one (still monotonic).
        ms++;
        counter = start;
      }
    } else {
      counter = start;
    }
    lastMs = ms;
    const r1 = word(pool, at + 2);
    const r2 = word(pool, at + 6);
    const high = Math.floor(ms / 0x1000000); // top 24 bits of the 48-bit time
    const low = ms % 0x1000000; // bottom 24 bits
    // One flat string from char codes: concatenating 20 pieces would allocate (and keep,
    // inside every mutation id) a tree of cons strings, at ~10x the cost.
    return String.fromCharCode(
      hex(high >>> 20),
      hex(high >>> 16),
      hex(high >>> 12),
      hex(high >>> 8),
      hex(high >>> 4),
      hex(high),
      hex(low >>> 20),
      hex(low >>> 16),
      DASH,
      hex(low >>> 12),
      hex(low >>> 8),
      hex(low >>> 4),
      hex(low),
      DASH,
      0x37, // '7': the version
      hex(counter >>> 8),
      hex(counter >>> 4),
      hex(counter),
      DASH,
      hex(0x8 | ((r1 >>> 28) & 0x3)), // the variant (10) and 2 random bits
      hex(r1 >>> 24),
      hex(r1 >>> 20),
      hex(r1 >>> 16),
      DASH,
      hex(r1 >>> 12),
      hex(r1 >>> 8),
      hex(r1 >>> 4),
      hex(r1),
      hex(r2 >>> 28),
      hex(r2 >>> 24),
      hex(r2 >>> 20),
      hex(r2 >>> 16),
      hex(r2 >>> 12),
      hex(r2 >>> 8),
      hex(r2 >>> 4),
      hex(r2),
    );
  };
}

/** The 32-bit unsigned big-endian word at `at`. */
function word(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}
