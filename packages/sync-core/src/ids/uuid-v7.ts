import { physicalTime } from '../clock/hlc.js';
import type { SyncEnvironment } from '../env/types.js';
import { hex } from '../text/hex.js';

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
    let ms = physicalTime(env.now());
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
    // xxxxxxxx-xxxx-7ccc-vrrr-rrrrrrrrrrrr: 48 bits of time, the version 7 and the counter,
    // the variant (binary 10) and 62 random bits (pool bytes 2-9, the variant over the top two
    // bits of the first). Joined: one flat string (see `text/hex.ts`).
    const time = hex(ms, 12);
    let random = '';
    for (let i = at + 4; i < at + 10; i++) random += hex(pool[i] as number, 2);
    return [
      time.slice(0, 8),
      time.slice(8),
      hex(0x7000 | counter, 4),
      hex(((((pool[at + 2] as number) & 0x3f) | 0x80) << 8) | (pool[at + 3] as number), 4),
      random,
    ].join('-');
  };
}
