import type { SyncClientOptions } from '../api/options.js';
import { SyncError } from '../errors/sync-error.js';
import { checkTransport } from '../transport/check-transport.js';

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new SyncError('invalid', `${name} must be a positive integer, got ${String(value)}`);
  }
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new SyncError('invalid', `${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/**
 * Checks the numeric options of `createSyncClient`, so a typo fails at construction instead of
 * as a client that never pushes (a batch size of 0) or retries in a tight loop, and the shape
 * of the transport (see `checkTransport`).
 * @throws SyncError `invalid`
 */
export function checkClientOptions(options: SyncClientOptions): void {
  checkTransport(options?.transport);
  positiveInteger('pushBatchSize', options.pushBatchSize);
  positiveInteger('pullPageSize', options.pullPageSize);
  positiveInteger('initialPullPageSize', options.initialPullPageSize);
  nonNegative('pullIntervalMs', options.pullIntervalMs);
  positiveInteger('requestTimeoutMs', options.requestTimeoutMs);
  positiveInteger('probeIntervalMs', options.probeIntervalMs);
  nonNegative('retry.baseDelayMs', options.retry?.baseDelayMs);
  nonNegative('retry.maxDelayMs', options.retry?.maxDelayMs);
  nonNegative('maxDriftMs', options.maxDriftMs);
}
