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

/** A running sha256 of an upload from its first byte. */
export function newRunningHash(): RunningHash {
  return { hash: createHash('sha256'), offset: 0 };
}

/**
 * What this process knows of an upload after a chunk it took in order and wrote whole: the
 * copy's blob and declared size, the running hash (at the chunk's end), and the recording of
 * the chunk's end as the copy's offset (the compare-and-set, which may still be running;
 * `true` once recorded, `false` when the offset was not where the chunk started any more).
 */
export interface UploadTail {
  running: RunningHash;
  blobKey: string;
  /** The declared size; `undefined` for an upload by id whose size is not declared yet. */
  totalBytes: number | undefined;
  /**
   * For an upload by id whose size was not declared at its start: the bytes the storage quota
   * lets it hold so far (a chunk past it asks first); `undefined` otherwise.
   */
  quotaTo: number | undefined;
  recorded: Promise<boolean>;
  /**
   * The offset `recorded` records: the tail's own end, or, when this process keeps the
   * upload's offset (a single-process server), an earlier chunk's end.
   */
  recordedTo: number;
  /** When (server clock) the last recording that `recorded` waits for started. */
  recordedAt: number;
  /** The blob's last sync behind the chunks (`BlobStore.sync`), in flight or done. */
  syncing: BlobSync;
}

/** A sync of an upload's blob behind its chunks: its outcome is left to the last one's. */
export interface BlobSync {
  /** Settles (never rejects) once the sync ended. */
  settled: Promise<void>;
  /** Whether it ended. */
  done: boolean;
}

// Uploads abandoned half-way leave their state behind; past this many, the oldest goes (its
// upload then looks its copy up again and verifies by re-reading the blob).
const MAX_TAILS = 1000;

/**
 * The upload tails of one process, keyed by copy (`userId sha256`) or upload by id, so that the
 * next chunk of an upload sent in order looks nothing up, is written while the offset of the
 * one before is still being recorded, and the last needs no second read of the whole blob. A
 * chunk that does not continue a known tail (another process took the previous chunk, a
 * restart, a failed write) has none: it waits until the copy's last recording in this process
 * settled (so the database shows its offset), looks the copy up, and a completed upload is
 * verified by re-reading the blob.
 */
export class UploadTails {
  readonly #tails = new Map<string, UploadTail>();
  readonly #recording = new Map<string, Promise<unknown>>();

  /**
   * Takes the tail of `key`, wherever it ends: the chunk that takes it either continues it
   * ({@link continuesTail}) or makes it stale.
   */
  take(key: string): UploadTail | undefined {
    const tail = this.#tails.get(key);
    this.#tails.delete(key);
    return tail;
  }

  /** Keeps a tail for the next chunk (and records its recording, see {@link settled}). */
  keep(key: string, tail: UploadTail): void {
    if (this.#tails.size >= MAX_TAILS) {
      const oldest = this.#tails.keys().next();
      if (oldest.done !== true) this.#tails.delete(oldest.value);
    }
    this.#tails.set(key, tail);
    this.recording(key, tail.recorded);
  }

  /** `work` records (or completes) a chunk of `key`: {@link settled} waits for it. */
  recording(key: string, work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#recording.set(key, settled);
    void settled.then(() => {
      if (this.#recording.get(key) === settled) this.#recording.delete(key);
    });
  }

  /**
   * Where the tail of `key` ends (every byte before it written and hashed in this process),
   * without taking it; `undefined` when there is none (or a chunk of it is being written).
   */
  heldAt(key: string): number | undefined {
    return this.#tails.get(key)?.running.offset;
  }

  /** Resolves once the last recording of `key` in this process settled, whatever its outcome. */
  async settled(key: string): Promise<void> {
    await this.#recording.get(key);
  }
}

/**
 * Whether a chunk at `offset` of an upload of `totalBytes` continues `tail`: it starts where
 * the tail ends, and the sizes agree (a size not declared, on either side, matches any).
 */
export function continuesTail(
  tail: UploadTail,
  offset: number,
  totalBytes: number | undefined,
): boolean {
  if (tail.running.offset !== offset) return false;
  return (
    tail.totalBytes === undefined || totalBytes === undefined || tail.totalBytes === totalBytes
  );
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
