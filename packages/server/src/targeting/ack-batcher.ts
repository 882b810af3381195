/**
 * Acknowledgements that arrive together go to the database together, in one call and one
 * commit (group commit). A fan-out to ten sessions brings ten acknowledgements within a few
 * milliseconds; on PGlite, which runs one statement at a time, they queued anyway, and each
 * paid for its own call and commit (~0.7 ms); ten together cost about what two cost alone.
 *
 * A batch starts on the next turn of the event loop, not at once: PGlite runs a statement on
 * the event loop's own thread, so requests that arrived meanwhile are read only after it, and
 * an acknowledgement sent at once would go alone every time. Those that arrive while a batch
 * runs go in the next one. No timer waits beyond that turn.
 *
 * @module
 */

import { soon } from '../realtime/soon.js';

/** Runs a batch of acknowledgements: one outcome per request, in the requests' order. */
export type RunAcks<Request, Outcome> = (requests: readonly Request[]) => Promise<Outcome[]>;

interface Waiting<Request, Outcome> {
  request: Request;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

// One call acknowledges at most this many (a bound on the statement's parameters and time).
const MAX_BATCH = 200;

/**
 * Batches calls of `run`: a batch starts on the next turn of the event loop with every request
 * submitted until then; at most one runs at a time, and every request that arrives while it
 * runs goes in the next one. A batch that fails is run again one request at a time,
 * so one bad request (or a deadlock with another process) fails only its own caller.
 */
export class AckBatcher<Request, Outcome> {
  readonly #run: RunAcks<Request, Outcome>;
  readonly #queue: Waiting<Request, Outcome>[] = [];
  #running = false;

  constructor(run: RunAcks<Request, Outcome>) {
    this.#run = run;
  }

  /** Adds `request` to the next batch; resolves with its outcome. */
  submit(request: Request): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        soon(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: readonly Waiting<Request, Outcome>[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.#run(batch.map((waiting) => waiting.request));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const waiting of batch) await this.#runBatch([waiting]);
      return;
    }
    for (const [index, waiting] of batch.entries()) waiting.resolve(outcomes[index] as Outcome);
  }
}
