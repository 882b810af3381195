/**
 * Byte-stream helpers of the asset routes: read a request body in pieces, compare its head
 * with bytes already held, and hash a blob, all without holding a whole asset in memory.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';

/** Reads a stream of byte chunks, handing out exact-length pieces and then the rest. */
export class ChunkReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array | undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #next(): Promise<Uint8Array | undefined> {
    if (this.#pending !== undefined) {
      const chunk = this.#pending;
      this.#pending = undefined;
      return chunk;
    }
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      if (value.byteLength > 0) return value;
    }
  }

  /**
   * Reads exactly `length` bytes and checks them against `expected` (a stream of the same
   * bytes as held); resolves `false` at the first difference or when the body ends early.
   */
  async matches(length: number, expected: ReadableStream<Uint8Array>): Promise<boolean> {
    const held = expected.getReader();
    let heldChunk: Uint8Array = new Uint8Array(0);
    let heldAt = 0;
    let left = length;
    try {
      while (left > 0) {
        const chunk = await this.#next();
        if (chunk === undefined) return false;
        const take = Math.min(left, chunk.byteLength);
        if (take < chunk.byteLength) this.#pending = chunk.subarray(take);
        for (let i = 0; i < take; ) {
          if (heldAt >= heldChunk.byteLength) {
            const next = await held.read();
            if (next.done) return false;
            heldChunk = next.value;
            heldAt = 0;
            continue;
          }
          const n = Math.min(take - i, heldChunk.byteLength - heldAt);
          for (let k = 0; k < n; k++) {
            if (chunk[i + k] !== heldChunk[heldAt + k]) return false;
          }
          i += n;
          heldAt += n;
        }
        left -= take;
      }
      return true;
    } finally {
      await held.cancel().catch(() => undefined);
    }
  }

  /** The rest of the stream, chunk by chunk. */
  async *rest(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.#next();
      if (chunk === undefined) return;
      yield chunk;
    }
  }

  /** Stops reading (the rest of the body is not wanted). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}

/** The sha256 of a byte stream, lowercase hex, hashed as it streams. */
export async function sha256Of(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  return hash.digest('hex');
}

/** A sha256 that has consumed the first `offset` bytes of an upload. */
export interface RunningHash {
  hash: Hash;
  offset: number;
}

// Uploads abandoned half-way leave their state behind; past this many, the oldest goes (its
// upload then verifies by re-reading the blob).
const MAX_RUNNING = 1000;

/**
 * The running hashes of the uploads of one process, so that the last chunk of an upload sent in
 * order needs no second read of the whole blob. A chunk that does not continue a known state
 * (another process took the previous chunk, a restart, a failed write) simply has none, and the
 * upload is verified by re-reading the blob.
 */
export class RunningHashes {
  readonly #states = new Map<string, RunningHash>();

  /** Takes the state of `key` at `offset`, or a new one at 0; `undefined` when none fits. */
  take(key: string, offset: number): RunningHash | undefined {
    const state = this.#states.get(key);
    this.#states.delete(key);
    if (state !== undefined && state.offset === offset) return state;
    return offset === 0 ? { hash: createHash('sha256'), offset: 0 } : undefined;
  }

  /** Keeps a state for the next chunk. */
  keep(key: string, state: RunningHash): void {
    if (this.#states.size >= MAX_RUNNING) {
      const oldest = this.#states.keys().next();
      if (oldest.done !== true) this.#states.delete(oldest.value);
    }
    this.#states.set(key, state);
  }
}

/** Passes `source` through, feeding `state` each chunk as it goes by. */
export async function* hashing(
  source: AsyncIterable<Uint8Array>,
  state: RunningHash,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    state.hash.update(chunk);
    state.offset += chunk.byteLength;
    yield chunk;
  }
}
