import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { Poke, PullRequest, PullResponse } from '../protocol/types.js';
import { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { SyncTransport } from '../transport/types.js';
import { checkPullPage } from './check-answers.js';
import { applyPulledPage } from './pull-page.js';
import { type RequestParts, retriedRequest } from './request.js';

/** What the pull loop needs (with the shared parts of its requests). */
export interface PullLoopOptions extends RequestParts {
  /** The live replica. */
  replica: Replica;
  /** The server. */
  transport: SyncTransport;
  /** Most changes per page. */
  pullPageSize: number;
  /**
   * Most changes per page of a pull that starts from no checkpoint (an initial sync, or a
   * reset): it downloads the whole scope, in fewer, larger pages when the server allows them.
   * Asked when such a pull starts.
   */
  initialPullPageSize: () => Promise<number>;
  /**
   * Called with each payload poke that could not be applied (its `fromCheckpoint` is not the
   * scope's checkpoint and no later poke caught up), oldest first; decides whether to pull.
   */
  onUnplacedPoke: (poke: Poke) => void;
}

/** A poke that carries its changes (see {@link Poke}). */
export type PagePoke = Poke & Required<Pick<Poke, 'fromCheckpoint' | 'checkpoint' | 'changes'>>;

/** `true` when `poke` carries its changes. */
export function isPagePoke(poke: Poke): poke is PagePoke {
  return (
    poke.changes !== undefined && poke.fromCheckpoint !== undefined && poke.checkpoint !== undefined
  );
}

// Pokes queued behind a running pull beyond this are dropped for one more pull instead.
const MAX_QUEUED_POKES = 256;

/**
 * Pulls scopes page by page. One pull per scope runs at a time; asking again while one runs
 * makes it run once more afterwards (a poke during a pull is never lost). Each page's records
 * and checkpoint are stored in one write; `hasMore` fetches the next page; `resetRequired`
 * drops the scope's copy and starts again from `null`.
 *
 * A poke that carries its changes ({@link PullLoop.offer}) is applied as a pull page when it
 * continues the scope's stored checkpoint exactly, with no request; it waits its turn behind
 * a running pull of the scope (which may already have brought it). One that cannot be placed
 * falls back to a pull, through `onUnplacedPoke`.
 */
export class PullLoop {
  readonly #o: PullLoopOptions;
  readonly #running = new Map<string, Promise<boolean>>();
  readonly #again = new Set<string>();
  readonly #pokes = new Map<string, PagePoke[]>();
  /**
   * The version of a stored checkpoint: the last poke that reached it, kept as it is (its page
   * holds records the store has taken, or older ones, until the scope's next poke).
   */
  readonly #known = new Map<string, PagePoke>();
  /**
   * Scopes where a write of pages reached memory but not storage: their checkpoint was moved
   * back, and their pages save again the records the base already holds (see
   * `applyPulledPage`) until a pull's last page is saved. Not sooner: the failed write may hold
   * more records than the next page (several pokes' pages, or a smaller page size), and a write
   * of pokes that applied nothing proves nothing.
   */
  readonly #resave = new Set<string>();

  /** @param options - see {@link PullLoopOptions} */
  constructor(options: PullLoopOptions) {
    this.#o = options;
  }

  /**
   * Pulls `scope` to the end. Resolves `true` when the scope was pulled to the end, `false`
   * when stopped or refused (auth).
   */
  pull(scope: string): Promise<boolean> {
    this.#again.add(scope);
    return this.#run(scope);
  }

  /**
   * Applies a poke's changes in turn with the scope's pulls (see the class doc). Resolves
   * like {@link PullLoop.pull}: `true` once the scope is up to date with what it knows.
   */
  offer(poke: PagePoke): Promise<boolean> {
    const queue = this.#pokes.get(poke.scope) ?? [];
    if (queue.length >= MAX_QUEUED_POKES) {
      queue.length = 0;
      this.#again.add(poke.scope);
    }
    queue.push(poke);
    this.#pokes.set(poke.scope, queue);
    return this.#run(poke.scope);
  }

  /**
   * `true` when the stored checkpoint of `scope` is known (from the last poke that reached it)
   * to cover `version`: a plain poke of that version brings nothing new.
   */
  covers(scope: string, version: number): boolean {
    const known = this.#known.get(scope);
    return (
      known !== undefined &&
      known.checkpoint === this.#o.replica.checkpoints.get(scope) &&
      version <= known.version
    );
  }

  #run(scope: string): Promise<boolean> {
    let running = this.#running.get(scope);
    if (running === undefined) {
      // The caller queued something first, so only a stopped loop ends before its first await
      // (and its `finally`): it stays here, and later calls get its `false`, as a new loop would.
      running = this.#drain(scope);
      this.#running.set(scope, running);
    }
    return running;
  }

  /**
   * Applies the scope's queued pokes and pulls it while there is either (see
   * {@link PullLoop.pull}); forgets the loop in the same step as its last check of `#again`, so
   * a pull() from then on starts a new loop. (Forgotten a microtask later, a pull() in between
   * would join a loop that has already decided to end, and its request would be lost.)
   * `false` as soon as a step fails or the client stops.
   */
  async #drain(scope: string): Promise<boolean> {
    try {
      while (!this.#o.stop.aborted) {
        const pokes = this.#pokes.get(scope);
        if (pokes !== undefined) {
          this.#pokes.delete(scope);
          const leftover = await this.#applyPokes(scope, pokes).catch(() => undefined);
          if (leftover === undefined) return false;
          const newer = this.#pokes.get(scope);
          // Pokes that came meanwhile may fill the gap: the leftovers are tried again with them.
          if (newer !== undefined) newer.unshift(...leftover);
          else for (const poke of leftover) this.#o.onUnplacedPoke(poke);
        } else if (this.#again.delete(scope)) {
          if (!(await this.#pullToEnd(scope).catch(() => false))) {
            // A failed pull drops the pokes queued meanwhile: the next pull brings them.
            this.#pokes.delete(scope);
            return false;
          }
        } else {
          return true;
        }
      }
      return false;
    } finally {
      this.#running.delete(scope);
    }
  }

  /**
   * Applies the pokes that continue the checkpoint, in one storage write. Pokes may arrive out
   * of order (or twice), so this repeats until no poke continues the checkpoint. A poke left
   * over is dropped when it is covered (its version is at most the version of the stored
   * checkpoint, known from the last poke that reached it); the rest are returned.
   */
  async #applyPokes(scope: string, pokes: readonly PagePoke[]): Promise<PagePoke[]> {
    const { replica } = this.#o;
    const write = new ReplicaBatch(replica);
    let pending = pokes;
    for (let progress = true; progress; ) {
      progress = false;
      const rest: PagePoke[] = [];
      for (const poke of pending) {
        // A page poke's checkpoints are defined (`isPagePoke`): neither matches a scope that
        // has no checkpoint yet.
        const current = replica.checkpoints.get(scope);
        if (poke.checkpoint === current) {
          this.#known.set(scope, poke);
        } else if (
          poke.fromCheckpoint === current &&
          !replica.resetting.has(scope) &&
          this.#applyPoke(scope, poke, write)
        ) {
          progress = true;
        } else {
          rest.push(poke);
        }
      }
      pending = rest;
    }
    await this.#write(write, scope); // a poke's page never ends a resave
    return pending.filter((poke) => !this.covers(scope, poke.version));
  }

  /** Applies one poke as a pull page; `false` (nothing applied) when its page is malformed. */
  #applyPoke(scope: string, poke: PagePoke, write: ReplicaBatch): boolean {
    const { ctx } = this.#o;
    let page: PullResponse;
    try {
      page = checkPullPage(
        { changes: poke.changes, checkpoint: poke.checkpoint, hasMore: false },
        { scope, checkpoint: poke.fromCheckpoint },
      );
    } catch (error) {
      // Reported like a malformed pull answer (transports may hand a poke's page over unchecked).
      ctx.status.failed(error as SyncError); // checkPullPage throws SyncErrors only
      return false;
    }
    applyPulledPage(ctx, write, scope, page, this.#resave.has(scope));
    this.#known.set(scope, poke);
    return true;
  }

  async #pullToEnd(scope: string): Promise<boolean> {
    const { ctx, replica } = this.#o;
    let resets = 0;
    const reset = replica.resetting.get(scope);
    if (
      // A reset persisted by an earlier run: which records it had seen is lost, start it over.
      reset === null ||
      // A first pull is a reset: records our own pushes brought (before it or while it runs)
      // may have been deleted meanwhile and their tombstones purged, and only the end of a reset
      // drops what the pull did not return.
      (reset === undefined && !replica.checkpoints.has(scope))
    ) {
      await this.#beginReset(scope);
    }
    let passRevision = 0;
    const limit = replica.checkpoints.has(scope)
      ? this.#o.pullPageSize
      : await this.#o.initialPullPageSize();
    // Each step starts with a request, which a stopped client does not send (`retriedRequest`).
    for (;;) {
      const request: PullRequest = {
        scope,
        checkpoint: replica.checkpoints.get(scope) ?? null,
        limit,
      };
      let page: PullResponse | undefined;
      try {
        page = await retriedRequest(
          this.#o,
          (signal) => this.#o.transport.pull(request, signal),
          (answer) => checkPullPage(answer, request),
        );
      } catch (error) {
        ctx.status.failed(error as SyncError); // retriedRequest throws SyncErrors only
        return false;
      }
      if (page === undefined || this.#o.stop.aborted) return false;
      // `resetRequired` is a boolean when present (checkPullPage).
      if (page.resetRequired) {
        // Guard against a server that keeps asking: reset once per pull, then give up until next time.
        if (resets++ > 0) {
          ctx.status.failed(new SyncError('server', 'The server keeps requiring a reset'));
          return false;
        }
        await this.#beginReset(scope);
        continue;
      }
      const write = new ReplicaBatch(replica);
      passRevision = applyPulledPage(
        ctx,
        write,
        scope,
        page,
        this.#resave.has(scope),
        passRevision,
      );
      await this.#write(write, scope, !page.hasMore);
      if (!page.hasMore) return true;
    }
  }

  /** Starts a reset of the scope (see `ReplicaBatch.beginReset`). */
  #beginReset(scope: string): Promise<void> {
    const write = new ReplicaBatch(this.#o.replica);
    write.beginReset(scope);
    return this.#write(write);
  }

  /**
   * Writes `write`; a failure is reported and thrown. With `scope`, the write holds pulled pages
   * of it: when storage fails, the pages stay in memory (the app saw them, and they are the
   * server's) but the checkpoint goes back, so the next pull starts from where storage is and
   * saves again what this write lost, up to its last page (`reachedEnd`: a pull from the stored
   * checkpoint to the end has returned every record this write held).
   */
  async #write(write: ReplicaBatch, scope?: string, reachedEnd?: boolean): Promise<void> {
    const { ctx } = this.#o;
    try {
      await write.commit(ctx.storage);
    } catch (error) {
      ctx.status.failed(
        isSyncError(error) ? error : new SyncError('storage', 'Saving pulled data failed'),
      );
      if (scope !== undefined) {
        write.rollback();
        this.#resave.add(scope);
      }
      throw error;
    }
    if (reachedEnd) this.#resave.delete(scope as string);
  }
}
