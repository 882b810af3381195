import type { EngineContext } from '../engine/context.js';
import type { SyncError } from '../errors/sync-error.js';
import type { Retryer } from './retryer.js';
import { withTimeout } from './with-timeout.js';

/** What {@link retriedRequest} needs: the parts the push and pull loops share. */
export interface RequestParts {
  /** Shared engine parts (the status, timers). */
  ctx: EngineContext;
  /** The shared retry policy. */
  retryer: Retryer;
  /** Aborts when the client stops or the session changes. */
  stop: AbortSignal;
  /** Per-request timeout. */
  requestTimeoutMs: number;
  /** Called with an `auth` error: syncing stops until the session changes. */
  onAuthError: (error: SyncError) => void;
}

/**
 * One request of the push or pull loop: counted in the status while it runs, sent by `send`
 * through the shared retryer with the per-request timeout, and its answer checked by `check`
 * (a malformed answer is retried like a 5xx). A success clears the status's error.
 *
 * Resolves `undefined` when the loop must stop: the client stopped, or an `auth` error (handed
 * to `onAuthError`). Rejects with any other failure, a `SyncError` that retrying cannot fix
 * (`Retryer.run` rejects with nothing else but the stop signal's reason).
 */
export async function retriedRequest<T>(
  parts: RequestParts,
  send: (signal: AbortSignal) => Promise<unknown>,
  check: (answer: unknown) => T,
): Promise<T | undefined> {
  const { ctx, stop } = parts;
  ctx.status.requestStarted();
  try {
    const answer = await parts.retryer.run(
      async () => check(await withTimeout(ctx.env, parts.requestTimeoutMs, stop, send)),
      stop,
    );
    ctx.status.succeeded();
    return answer;
  } catch (error) {
    if (stop.aborted) return undefined;
    if ((error as SyncError).kind !== 'auth') throw error;
    parts.onAuthError(error as SyncError);
    return undefined;
  } finally {
    ctx.status.requestEnded();
  }
}
