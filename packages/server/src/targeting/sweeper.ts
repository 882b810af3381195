/**
 * The sweeper: expires deliveries and transfers past their TTL (server clock), completes
 * deliveries whose remaining targets went stale or were revoked, purges ended ones after
 * their retention, and deletes the bytes of every asset copy nothing live references, plus
 * any blob whose row is gone (a delete that failed earlier).
 *
 * @module
 */
import type { BlobStore } from '../assets/blob-store.js';
import type { StreamTimers } from '../http/event-stream.js';
import type { Logger } from '../http/problem.js';
import type { SweepResult, TargetingStore } from './types.js';

/** What one sweep did, bytes included. */
export interface SweepReport extends SweepResult {
  /** Blobs deleted from the BlobStore (released copies and orphans). */
  deletedBlobs: number;
}

/** Runs one sweep over the database and the BlobStore. */
export async function sweepOnce(
  targeting: TargetingStore,
  blobStore: BlobStore,
  logger: Logger,
): Promise<SweepReport> {
  const result = await targeting.sweep();
  const held = await blobStore.keys();
  const known = await targeting.knownBlobKeys(held);
  const doomed = new Set(result.releasedBlobKeys);
  for (const key of held) if (!known.has(key)) doomed.add(key);
  let deletedBlobs = 0;
  for (const key of doomed) {
    try {
      await blobStore.delete(key);
      deletedBlobs++;
    } catch (error) {
      logger.error('deleting the bytes of a released asset failed', error);
    }
  }
  return { ...result, deletedBlobs };
}

/** Options of {@link startSweeper}. */
export interface SweeperOptions {
  /** One sweep (e.g. `handler.sweep`). */
  sweep: () => Promise<unknown>;
  /** Milliseconds between sweeps. */
  intervalMs: number;
  /** Where a failed sweep is reported. */
  logger: Logger;
  /** Timers. @default globalThis.setInterval/clearInterval (unref'd in Node) */
  timers?: StreamTimers;
}

/** Sweeps every `intervalMs` (one at a time); returns the function that stops it. */
export function startSweeper(options: SweeperOptions): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    options
      .sweep()
      .catch((error: unknown) => options.logger.error('the sweep failed', error))
      .finally(() => {
        running = false;
      });
  };
  if (options.timers !== undefined) {
    const handle = options.timers.setInterval(tick, options.intervalMs);
    return () => options.timers?.clearInterval(handle);
  }
  const handle = setInterval(tick, options.intervalMs);
  (handle as { unref?: () => void }).unref?.();
  return () => clearInterval(handle);
}
