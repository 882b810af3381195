import type { SyncEnvironment } from '../env/types.js';
import type { SyncError } from '../errors/sync-error.js';
import type { Reachability } from './reachability.js';
import type { Replicator } from './replicator.js';
import type { Retryer } from './retryer.js';
import { withTimeout } from './with-timeout.js';

/** Options of `client.syncNow()`. */
export interface SyncNowOptions {
  /** Ends the wait early: the call resolves with `{ outcome: 'pending', reason: 'aborted' }`. */
  signal?: AbortSignal;
  /**
   * The longest wait, in milliseconds: the call then resolves with
   * `{ outcome: 'pending', reason: 'timeout' }`. Sync itself goes on in the background.
   * @default 30000
   */
  timeoutMs?: number;
}

/**
 * What `client.syncNow()` found, discriminated by `outcome`. `pending` is the number of local
 * mutations still waiting for the server when the call resolved.
 *
 * - `settled`: every sendable mutation was answered and every scope pulled to its end.
 * - `pending`: not done when the call stopped waiting: `reason` is `timeout`, `aborted`, or
 *   `failed` (a request failed in a way retries will not fix soon, e.g. `misconfigured`;
 *   `error` says which). Sync goes on in the background.
 * - `offline`: the device is offline, or the server cannot be reached (`error` is the network
 *   error). The client probes and resumes by itself.
 * - `paused-auth`: the server refused the credentials even after a fresh token (`error`). Sync
 *   resumes on a new session, on the next `syncNow()`, or by itself after a while.
 * - `local`: nobody is signed in: there is nothing to sync with.
 * - `stopped`: the client is not started (or was stopped).
 */
export type SyncNowResult =
  | { outcome: 'settled'; pending: number; lastSyncedAt: number }
  | {
      outcome: 'pending';
      pending: number;
      reason: 'timeout' | 'aborted' | 'failed';
      error?: SyncError;
    }
  | { outcome: 'offline'; pending: number; error?: SyncError }
  | { outcome: 'paused-auth'; pending: number; error: SyncError }
  | { outcome: 'local'; pending: number }
  | { outcome: 'stopped'; pending: number };

/** The default of {@link SyncNowOptions.timeoutMs}. */
export const SYNC_NOW_TIMEOUT_MS = 30_000;

/** A {@link SyncNowResult} but its `pending` count, which is read when the call resolves. */
type SyncOutcome = SyncNowResult extends infer Result
  ? Result extends unknown
    ? Omit<Result, 'pending'>
    : never
  : never;

/** What {@link syncNow} works with: the client's session, reachability and replicator. */
export interface SyncNowParts {
  /** Time and timers. */
  env: SyncEnvironment;
  /** Pending mutations now. */
  pending(): number;
  /** `false` once the client stopped (or before it started). */
  running(): boolean;
  /** Resolves once the session changes so far have been carried out. */
  settled(): Promise<void>;
  /** `true` while a user is signed in. */
  signedIn(): boolean;
  /** Whether the server answers now. */
  reachability: Pick<Reachability, 'checkNow' | 'unreachable'>;
  /** The running replicator, restarted after an `auth` pause; `undefined` when there is none. */
  resume(): Replicator | undefined;
  /** The client's retryer. */
  retryer(): Retryer;
}

/**
 * `client.syncNow()` in the tab that replicates: `stopped` or `local` when there is nothing to
 * sync, `offline` when the server does not answer a probe, else one sync round raced against
 * the timeout and the signal. After an `auth` pause it retries with whatever `getToken` returns
 * now.
 */
export async function syncNow(
  parts: SyncNowParts,
  options: SyncNowOptions,
): Promise<SyncNowResult> {
  return { ...(await syncRound(parts, options)), pending: parts.pending() } as SyncNowResult;
}

/**
 * {@link syncNow} but its `pending` count. Once there is something to sync, waits for a sync
 * round and says how it ended: settled, or the first of timeout, abort, or a failure that
 * retrying will not fix by itself soon (network: `offline`, auth: `paused-auth`, misconfigured:
 * `pending`/`failed`). Transient failures (5xx, timeouts, 429) are retried inside the round and
 * only end the wait at the timeout. The round itself is never cancelled.
 */
async function syncRound(parts: SyncNowParts, options: SyncNowOptions): Promise<SyncOutcome> {
  if (!parts.running()) return { outcome: 'stopped' };
  await parts.settled();
  if (!parts.running()) return { outcome: 'stopped' };
  if (!parts.signedIn()) return { outcome: 'local' };
  if (!(await parts.reachability.checkNow())) {
    const error = parts.reachability.unreachable;
    return { outcome: 'offline', ...(error === undefined ? {} : { error }) };
  }
  const replicator = parts.resume();
  if (replicator === undefined) return { outcome: 'stopped' };
  const retryer = parts.retryer();
  // Failures of attempts numbered up to this started before the call and are not its news.
  const startedBefore = retryer.attemptsStarted;
  // A stale failure's backoff must not make the round wait it out.
  retryer.retryNow();
  const work = replicator.syncNow();
  let lastError: SyncError | undefined;
  let unwatch = () => {};
  const pendingResult = (reason: 'timeout' | 'aborted' | 'failed'): SyncOutcome => ({
    outcome: 'pending',
    reason,
    ...(lastError === undefined ? {} : { error: lastError }),
  });
  try {
    // The round, or the first failure that ends the wait, raced against the timeout and signal.
    return await withTimeout(
      parts.env,
      options.timeoutMs ?? SYNC_NOW_TIMEOUT_MS,
      options.signal,
      () =>
        new Promise<SyncOutcome>((resolve) => {
          unwatch = replicator.watchFailures((error, attempt) => {
            if (attempt <= startedBefore) {
              retryer.retryNow();
              return;
            }
            lastError = error;
            if (error.kind === 'network') resolve({ outcome: 'offline', error });
            else if (error.kind === 'auth') resolve({ outcome: 'paused-auth', error });
            else if (error.kind === 'misconfigured') resolve(pendingResult('failed'));
          });
          work.then(
            (settled) =>
              resolve(
                settled
                  ? { outcome: 'settled', lastSyncedAt: parts.env.now() }
                  : pendingResult('failed'),
              ),
            () => resolve(pendingResult('failed')),
          );
        }),
    );
  } catch {
    return pendingResult(options.signal?.aborted ? 'aborted' : 'timeout');
  } finally {
    unwatch();
  }
}
