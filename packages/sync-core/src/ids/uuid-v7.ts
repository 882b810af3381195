import type { SyncEnvironment } from '../client/types.js';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Generates ids; one per client, so two clients never share state. */
export type IdGenerator = () => string;

/**
 * A UUIDv7 generator (RFC 9562 §5.7) over the injected clock and random source.
 *
 * Layout: 48 bits of Unix milliseconds, version 7, 12 bits `rand_a`, variant `10`, 62 bits
 * `rand_b`. Within one millisecond `rand_a` is used as a counter (RFC 9562 §6.2 method 1), so
 * ids of one generator are strictly increasing even when many are made per millisecond or the
 * clock steps back: then the previous timestamp is kept and the counter carries into it.
 *
 * @param env - the clock (`now`) and randomness (`random`) to use
 */
export function createUuidV7(env: Pick<SyncEnvironment, 'now' | 'random'>): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  return () => {
    let ms = Math.floor(env.now());
    if (!Number.isFinite(ms) || ms < 0) ms = 0;
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        // Counter exhausted within one millisecond: borrow the next one (still monotonic).
        ms++;
        counter = Math.floor(env.random() * 0x400);
      }
    } else {
      // Leave headroom so the counter rarely overflows within a millisecond.
      counter = Math.floor(env.random() * 0x400);
    }
    lastMs = ms;
    const high = Math.floor(ms / 0x1000000); // top 24 bits of the 48-bit time
    const low = ms % 0x1000000; // bottom 24 bits
    const r1 = Math.floor(env.random() * 0x100000000) >>> 0;
    const r2 = Math.floor(env.random() * 0x100000000) >>> 0;
    return (
      HEX[(high >>> 16) & 0xff]! +
      HEX[(high >>> 8) & 0xff]! +
      HEX[high & 0xff]! +
      HEX[(low >>> 16) & 0xff]! +
      '-' +
      HEX[(low >>> 8) & 0xff]! +
      HEX[low & 0xff]! +
      '-' +
      HEX[0x70 | ((counter >>> 8) & 0x0f)]! +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | ((r1 >>> 24) & 0x3f)]! +
      HEX[(r1 >>> 16) & 0xff]! +
      '-' +
      HEX[(r1 >>> 8) & 0xff]! +
      HEX[r1 & 0xff]! +
      HEX[(r2 >>> 24) & 0xff]! +
      HEX[(r2 >>> 16) & 0xff]! +
      HEX[(r2 >>> 8) & 0xff]! +
      HEX[r2 & 0xff]!
    );
  };
}
