import type { TransferState } from '../protocol/sessions.js';

/** Progress of one upload or download, as the `transfer` event and `transfers()` show it. */
export interface TransferProgress {
  /** The delivery id (an asset sent or received) or the transfer id (a transfer on request). */
  id: string;
  /** The asset. */
  assetHash: string;
  /** `upload` on the sending side, `download` on the receiving one. */
  direction: 'upload' | 'download';
  /** File name, when known. */
  name?: string;
  /** Where it stands. */
  state: TransferState;
  /** Bytes moved so far on this side (never decreases while the transfer runs). */
  bytesDone: number;
  /** Total bytes (0 while unknown). */
  totalBytes: number;
  /** Recent throughput in bytes per second (0 until measured). */
  rate: number;
  /** Estimated milliseconds to completion, or `null` when unknown. */
  etaMs: number | null;
  /** Why it failed. */
  error?: string;
}

/** Weight of the newest sample in the rate's moving average. */
const SMOOTHING = 0.3;

/**
 * Keeps one {@link TransferProgress} up to date and publishes a new frozen snapshot on each
 * change. Rate is an exponential moving average of the samples' throughput; bytes done never
 * go back (a resumed transfer continues from what it held).
 */
export class ProgressTracker {
  #snapshot: Readonly<TransferProgress>;
  #lastAt: number;
  readonly #now: () => number;
  readonly #publish: (progress: Readonly<TransferProgress>) => void;

  constructor(options: {
    initial: Omit<TransferProgress, 'rate' | 'etaMs'>;
    now: () => number;
    publish: (progress: Readonly<TransferProgress>) => void;
  }) {
    this.#now = options.now;
    this.#publish = options.publish;
    this.#lastAt = options.now();
    this.#snapshot = Object.freeze({ ...options.initial, rate: 0, etaMs: null });
    this.#publish(this.#snapshot);
  }

  /** The latest snapshot. */
  get snapshot(): Readonly<TransferProgress> {
    return this.#snapshot;
  }

  /** Records that `bytesDone` of `totalBytes` are moved. */
  advance(bytesDone: number, totalBytes: number): void {
    const previous = this.#snapshot;
    const done = Math.max(previous.bytesDone, bytesDone);
    const now = this.#now();
    const elapsed = now - this.#lastAt;
    let rate = previous.rate;
    if (elapsed > 0 && done > previous.bytesDone) {
      const sample = ((done - previous.bytesDone) * 1000) / elapsed;
      rate = rate === 0 ? sample : rate + SMOOTHING * (sample - rate);
      this.#lastAt = now;
    }
    const remaining = Math.max(0, totalBytes - done);
    this.#set({
      ...previous,
      state: 'in_progress',
      bytesDone: done,
      totalBytes,
      rate,
      etaMs: rate > 0 ? Math.round((remaining * 1000) / rate) : remaining === 0 ? 0 : null,
    });
  }

  /** Moves to a final or waiting state. */
  settle(state: TransferState, error?: string): void {
    const next: TransferProgress = { ...this.#snapshot, state };
    if (state === 'completed') {
      next.bytesDone = next.totalBytes;
      next.etaMs = 0;
    }
    if (error !== undefined) next.error = error;
    this.#set(next);
  }

  #set(next: TransferProgress): void {
    this.#snapshot = Object.freeze(next);
    this.#publish(this.#snapshot);
  }
}
