/**
 * An incremental SHA-256 (FIPS 180-4). Web Crypto's `digest` is one-shot, so a file read as a
 * stream, or a download resumed after a reload, would have to be held whole in memory to be
 * hashed; this one takes the bytes chunk by chunk in constant memory. About 100 lines and no
 * dependency, where @noble/hashes would add a package to a core that has two.
 *
 * Where the runtime has `node:crypto` (Node 20.16+, Bun, Deno, Electron's main process, found
 * through `process.getBuiltinModule`, so no bundler sees an import), the same incremental
 * interface runs on its native hash: several hundred MB/s where the JavaScript rounds do a
 * few dozen, which is what a 500 MB asset is hashed with, twice (sent and received).
 *
 * @module
 */

/** The part of a `node:crypto` Hash used here. */
interface NativeHash {
  update(bytes: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

interface BuiltinHost {
  process?: { getBuiltinModule?: (id: string) => unknown };
}

/** A native incremental SHA-256 where the runtime offers one, else `undefined`. */
function nativeSha256(): NativeHash | undefined {
  try {
    const crypto = (globalThis as BuiltinHost).process?.getBuiltinModule?.('node:crypto') as
      | { createHash?: (algorithm: string) => NativeHash }
      | undefined;
    return crypto?.createHash?.('sha256');
  } catch {
    return undefined; // a runtime whose `process` shim throws: the JavaScript rounds
  }
}

/** Options of {@link Sha256}. */
export interface Sha256Options {
  /**
   * Uses the runtime's native hash (`node:crypto`) when it has one; `false` always runs the
   * JavaScript rounds (tests compare the two).
   * @default true
   */
  native?: boolean;
}

// Marked pure: in the built package this table shares a chunk with code every app imports, and a
// bundler keeps a module-level `new` it cannot prove harmless, so an app that never hashes a
// file shipped its 64 constants (~0.6 kB gzipped).
const K = /* @__PURE__ */ new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/** A running SHA-256: `update` with chunks in order, then `digestHex` once. */
export class Sha256 {
  readonly #native: NativeHash | undefined;
  readonly #state = new Uint32Array(INITIAL);
  readonly #block = new Uint8Array(64);
  readonly #words = new Uint32Array(64);
  #blockLength = 0;
  #length = 0;
  #finished = false;

  /** @param options - see {@link Sha256Options} */
  constructor(options: Sha256Options = {}) {
    this.#native = options.native === false ? undefined : nativeSha256();
  }

  /** Whether this hash runs on the runtime's native SHA-256 (not the JavaScript rounds). */
  get native(): boolean {
    return this.#native !== undefined;
  }

  /** Adds the next bytes. */
  update(bytes: Uint8Array): this {
    if (this.#finished) throw new Error('Sha256: update after digest');
    if (this.#native !== undefined) {
      this.#native.update(bytes);
      return this;
    }
    this.#length += bytes.length;
    let offset = 0;
    if (this.#blockLength > 0) {
      const take = Math.min(64 - this.#blockLength, bytes.length);
      this.#block.set(bytes.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      offset = take;
      if (this.#blockLength < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    for (; offset + 64 <= bytes.length; offset += 64) this.#compress(bytes, offset);
    if (offset < bytes.length) {
      this.#block.set(bytes.subarray(offset));
      this.#blockLength = bytes.length - offset;
    }
    return this;
  }

  /** The digest as lowercase hex; the hash cannot be updated afterwards. */
  digestHex(): string {
    if (this.#finished) throw new Error('Sha256: digest twice');
    if (this.#native !== undefined) {
      this.#finished = true;
      return this.#native.digest('hex');
    }
    const bitLength = this.#length * 8;
    const padLength = this.#blockLength < 56 ? 64 - this.#blockLength : 128 - this.#blockLength;
    const padding = new Uint8Array(padLength);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padLength - 8, Math.floor(bitLength / 2 ** 32));
    view.setUint32(padLength - 4, bitLength >>> 0);
    this.update(padding);
    this.#finished = true;
    let hex = '';
    for (const word of this.#state) hex += word.toString(16).padStart(8, '0');
    return hex;
  }

  #compress(bytes: Uint8Array, offset: number): void {
    const w = this.#words;
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] =
        ((bytes[j] as number) << 24) |
        ((bytes[j + 1] as number) << 16) |
        ((bytes[j + 2] as number) << 8) |
        (bytes[j + 3] as number);
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15] as number;
      const y = w[i - 2] as number;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    const s = this.#state;
    let a = s[0] as number;
    let b = s[1] as number;
    let c = s[2] as number;
    let d = s[3] as number;
    let e = s[4] as number;
    let f = s[5] as number;
    let g = s[6] as number;
    let h = s[7] as number;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0] as number) + a;
    s[1] = (s[1] as number) + b;
    s[2] = (s[2] as number) + c;
    s[3] = (s[3] as number) + d;
    s[4] = (s[4] as number) + e;
    s[5] = (s[5] as number) + f;
    s[6] = (s[6] as number) + g;
    s[7] = (s[7] as number) + h;
  }
}

/** The SHA-256 of `bytes` as lowercase hex, synchronously. */
export function sha256Hex(bytes: Uint8Array): string {
  return new Sha256().update(bytes).digestHex();
}
