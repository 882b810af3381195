import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { OutboxEntry } from '../outbox/outbox.js';
import { limitsOfTooLarge, type ServerLimitsInfo } from '../protocol/server-info.js';
import type { MutationResult, PushRequest } from '../protocol/types.js';
import { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';
import { checkPushAnswer } from './check-answers.js';
import { applyPushResults } from './push-results.js';
import { type RequestParts, retriedRequest } from './request.js';

/** What the push loop needs (with the shared parts of its requests). */
export interface PushLoopOptions extends RequestParts {
  /** The live replica of the signed-in user. */
  replica: Replica;
  /** Who pushes. */
  session: AuthSession;
  /** This installation. */
  clientId: string;
  /** The server. */
  transport: SyncTransport;
  /** Most mutations per request. */
  pushBatchSize: number;
  /** Called with the server's limits from a 413 `too_large` answer. */
  onLimits: (limits: Partial<ServerLimitsInfo>) => void;
  /** The highest revision our mutations got, per scope: each answer raises it. */
  ownRevisions: Map<string, number>;
}

/**
 * Sends the outbox: one request at a time, batches from {@link Outbox.takeBatch}, every
 * request through the shared retryer (retryable failures retry the same batch, never drop it).
 * A request rejected as a whole (4xx) with more than one transaction unit in it is sent again
 * one unit per request, so only the bad mutation is dead-lettered: a poison pill never blocks
 * the queue (DESIGN §3.7).
 */
export class PushLoop {
  readonly #o: PushLoopOptions;
  #running: Promise<void> | null = null;
  #scheduled = false;
  /**
   * While above 0, how many entries are still to go one transaction unit per request (after a
   * refusal). Every batch counts it down; below 0 it means nothing.
   */
  #alone = 0;

  /** @param options - see {@link PushLoopOptions} */
  constructor(options: PushLoopOptions) {
    this.#o = options;
  }

  /**
   * Asks for a push soon: at the end of the current task (a zero-delay timer of the injected
   * environment). A loop of awaited writes runs in one task (its awaits are microtasks), so its
   * writes leave in full batches after it, instead of one request per write racing the loop.
   */
  schedule(): void {
    if (this.#scheduled || this.#o.stop.aborted) return;
    this.#scheduled = true;
    this.#o.ctx.env.setTimeout(() => {
      this.#scheduled = false;
      void this.run().catch(() => {});
    }, 0);
  }

  /**
   * Pushes until nothing can be sent; resolves when done (or stopped). A call while a push runs
   * joins it: the loop takes a new batch after each answer, so what became sendable meanwhile
   * goes with it.
   */
  run(): Promise<void> {
    // With something to send, a new loop reaches its first await (unless stopped for good), so
    // it is kept here before its `finally` runs.
    if (this.#running === null && this.#o.replica.outbox.hasSendable()) {
      this.#running = this.#loop();
    }
    return this.#running ?? Promise.resolve();
  }

  /**
   * The loop forgets itself in the same step as its last `takeBatch` (its `finally`), so a
   * `run()` from then on starts a new loop. (Forgotten a microtask later, a `run()` in between
   * joined a loop that had already ended, and its writes waited for the next push: session 11.)
   */
  async #loop(): Promise<void> {
    try {
      while (!this.#o.stop.aborted) {
        // `takeBatch(1)` takes one unit: one mutation, or one transaction whole.
        const batch = this.#o.replica.outbox.takeBatch(this.#alone > 0 ? 1 : this.#o.pushBatchSize);
        if (batch.length === 0) return;
        this.#alone -= batch.length;
        if (!(await this.#send(batch))) return;
      }
    } finally {
      this.#running = null;
    }
  }

  /**
   * Sends one batch and applies its answer; `false` when pushing must stop (stopped or auth
   * failure). A request refused as a whole (4xx other than auth) with several transaction units
   * in it goes back to the queue, whose next entries then go one unit per request, so that only
   * the offending one is dead-lettered; a single unit refused so is rejected like a `rejected`
   * result.
   */
  async #send(batch: OutboxEntry[]): Promise<boolean> {
    const { ctx, replica, transport, clientId, session } = this.#o;
    const { outbox } = replica;
    const request: PushRequest = {
      clientId,
      sessionId: session.sessionId,
      mutations: batch.map((entry) => entry.mutation),
    };
    let results: readonly MutationResult[] | undefined;
    try {
      results = await retriedRequest(
        this.#o,
        (signal) => transport.push(request, signal),
        (answer) => checkPushAnswer(answer, request).results,
      );
    } catch (error) {
      // A SyncError that retrying cannot fix, other than `auth` (see `retriedRequest`).
      const failure = error as SyncError;
      const limits = limitsOfTooLarge(failure);
      if (limits !== undefined) this.#o.onLimits(limits);
      if (new Set(batch.map((entry) => entry.mutation.txId ?? entry.mutation.id)).size > 1) {
        outbox.release(batch);
        this.#alone = batch.length;
        return true;
      }
      const code = failure.code ?? 'rejected';
      results = batch.map((entry) => ({
        id: entry.mutation.id,
        status: 'rejected',
        code,
        message: failure.message,
      }));
    }
    // Stopped, or refused as `auth`: the batch stays queued.
    if (results === undefined) {
      outbox.release(batch);
      return false;
    }
    const write = new ReplicaBatch(replica);
    const outcome = applyPushResults(
      ctx,
      write,
      batch,
      results,
      this.#o.ownRevisions,
      transport.revisions === 'scope',
    );
    // In the same step as the answer's counts: the status then goes to `synced` once, with the
    // new lastSyncedAt (after the save's await, it went `synced` twice in a row).
    if (outbox.size === 0) ctx.status.pushedAll(ctx.env.now());
    try {
      await write.commit(ctx.storage);
    } catch (error) {
      // Memory is ahead of storage; a restart re-sends and the server deduplicates (or rejects
      // again).
      ctx.status.failed(
        isSyncError(error) ? error : new SyncError('storage', 'Saving push results failed'),
      );
    }
    for (const parked of outcome.parked) ctx.emitConflict(parked);
    for (const letter of outcome.rejected) ctx.emitRejected(letter);
    return true;
  }
}
