import type { SyncEnvironment } from '../env/types.js';
import { SyncError } from '../errors/sync-error.js';

/**
 * Runs `request` with an `AbortSignal` that aborts after `timeoutMs` or when `stop` (if any)
 * aborts.
 * A transport that ignores the signal still cannot hang the loop: the returned promise
 * rejects with a `timeout` SyncError when the time is up.
 */
export function withTimeout<T>(
  env: Pick<SyncEnvironment, 'setTimeout' | 'clearTimeout'>,
  timeoutMs: number,
  stop: AbortSignal | undefined,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      env.clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    };
    const onStop = () => {
      finish();
      controller.abort(stop?.reason);
      reject(stop?.reason);
    };
    const timer = env.setTimeout(() => {
      finish();
      const error = new SyncError('timeout', `No answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    if (stop?.aborted) {
      onStop();
      return;
    }
    stop?.addEventListener('abort', onStop);
    // Async, so that a `request` that throws at once rejects like one that fails later.
    (async () => request(controller.signal))().then(resolve, reject).finally(finish);
  });
}
