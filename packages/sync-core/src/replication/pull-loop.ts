import type { EngineContext } from '../client/context.js';
import type { Replica } from '../client/replica.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { canary } from '../internal/canary.js';
import type { PullRequest, PullResponse } from '../protocol/types.js';
import type { SyncTransport } from '../transport/types.js';
import { checkPullPage } from './check-pull-page.js';
import { applyPulledPage, beginReset, finishReset } from './pull-page.js';
import type { Retryer } from './retryer.js';
import { withTimeout } from './with-timeout.js';

/** What the pull loop needs. */
export interface PullLoopOptions {
  /** Shared engine parts. */
  ctx: EngineContext;
  /** The live replica. */
  replica: Replica;
  /** The server. */
  transport: SyncTransport;
  /** The shared retry policy. */
  retryer: Retryer;
  /** Aborts when the client stops or the session changes. */
  stop: AbortSignal;
  /** Most changes per page. */
  pageSize: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
  /** Called with an `auth` error. */
  onAuthError: (error: SyncError) => void;
}

/**
 * Pulls scopes page by page. One pull per scope runs at a time; asking again while one runs
 * makes it run once more afterwards (a poke during a pull is never lost). Each page's records
 * and checkpoint are stored in one write; `hasMore` fetches the next page; `resetRequired`
 * drops the scope's copy and starts again from `null`.
 */
export class PullLoop {
  readonly #o: PullLoopOptions;
  readonly #running = new Map<string, Promise<boolean>>();
  readonly #again = new Set<string>();

  /** @param options - see {@link PullLoopOptions} */
  constructor(options: PullLoopOptions) {
    this.#o = options;
  }

  /** `true` while a pull of `scope` runs. */
  isPulling(scope: string): boolean {
    return this.#running.has(scope);
  }

  /**
   * Pulls `scope` to the end. Resolves `true` when the scope was pulled to the end, `false`
   * when stopped or refused (auth).
   */
  pull(scope: string): Promise<boolean> {
    const running = this.#running.get(scope);
    if (running !== undefined) {
      this.#again.add(scope);
      return running;
    }
    const loop = async (): Promise<boolean> => {
      let ok = true;
      do {
        this.#again.delete(scope);
        ok = await this.#pullToEnd(scope).catch(() => false);
      } while (ok && this.#again.has(scope) && !this.#o.stop.aborted);
      return ok;
    };
    const promise = loop().finally(() => {
      this.#running.delete(scope);
    });
    this.#running.set(scope, promise);
    return promise;
  }

  async #pullToEnd(scope: string): Promise<boolean> {
    const { ctx, replica, transport, retryer, stop } = this.#o;
    let resets = 0;
    if (replica.resetting.get(scope) === null) {
      // A reset persisted by an earlier run: which records it had seen is lost, start it over.
      await this.#write(beginReset(replica, scope));
    }
    for (;;) {
      if (stop.aborted) return false;
      const request: PullRequest = {
        scope,
        checkpoint: replica.checkpoints.get(scope) ?? null,
        limit: this.#o.pageSize,
      };
      let page: PullResponse;
      ctx.status.requestStarted();
      try {
        page = await retryer.run(async () => {
          const raw = await withTimeout(ctx.env, this.#o.requestTimeoutMs, stop, (signal) =>
            transport.pull(request, signal),
          );
          return checkPullPage(raw, request);
        }, stop);
      } catch (error) {
        ctx.status.requestEnded();
        if (stop.aborted) return false;
        const failure = isSyncError(error)
          ? error
          : new SyncError('network', 'Pull failed', { cause: error });
        if (failure.kind === 'auth') this.#o.onAuthError(failure);
        else ctx.status.failed(failure);
        return false;
      }
      ctx.status.requestEnded();
      ctx.status.succeeded();
      if (stop.aborted) return false;
      if (page.resetRequired === true) {
        // Guard against a server that keeps asking: reset once per pull, then give up until next time.
        if (resets++ > 0) {
          ctx.status.failed(new SyncError('server', 'The server keeps requiring a reset'));
          return false;
        }
        await this.#write(beginReset(replica, scope));
        continue;
      }
      const splitCheckpoint = canary('checkpoint-before-rows');
      if (splitCheckpoint) {
        // Planted bug: the checkpoint is saved in its own write, before the page's records.
        await this.#write([{ type: 'set', key: `c/${scope}`, value: page.checkpoint }]);
      }
      const ops = applyPulledPage(ctx, replica, scope, page, !splitCheckpoint);
      // The end of a reset is written with its last page: no state shows the reset half done.
      if (!page.hasMore && replica.resetting.has(scope))
        ops.push(...finishReset(ctx, replica, scope));
      await this.#write(ops);
      if (!page.hasMore) return true;
    }
  }

  async #write(ops: Parameters<EngineContext['storage']['write']>[1]): Promise<void> {
    if (ops.length === 0) return;
    const { ctx, replica } = this.#o;
    try {
      await ctx.storage.write(replica.namespace, ops);
    } catch (error) {
      ctx.status.failed(
        isSyncError(error) ? error : new SyncError('storage', 'Saving pulled data failed'),
      );
      throw error;
    }
  }
}
