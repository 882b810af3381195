/**
 * Fair scheduling of one kind of work (pushes) across users: each user runs at most
 * `concurrencyPerUser` at once and queues a few more; the rest is refused at once with 429.
 *
 * Why it is fair: the store's queue (PGlite has one connection; PostgreSQL a pool, and one
 * scope's pushes take its row lock) serves whatever reaches it first. Twenty concurrent 1 MB
 * pushes of one user would all be in front of another user's small push. With one push per
 * user in the store at a time, a light user waits behind at most one push of each other user.
 *
 * @module
 */
import { problem } from './problem.js';

/** Options of {@link UserWorkQueue}. */
export interface UserWorkQueueOptions {
  /** Work items of one user running at once. */
  concurrencyPerUser: number;
  /** Work items of one user waiting; one more is refused with 429. */
  maxQueuedPerUser: number;
}

interface UserLane {
  running: number;
  waiting: (() => void)[];
}

/** Runs each user's work with a per-user concurrency cap and a bounded per-user queue. */
export class UserWorkQueue {
  readonly #options: UserWorkQueueOptions;
  readonly #lanes = new Map<string, UserLane>();

  /** @param options - see {@link UserWorkQueueOptions} */
  constructor(options: UserWorkQueueOptions) {
    if (!(options.concurrencyPerUser >= 1) || !(options.maxQueuedPerUser >= 0)) {
      throw new RangeError('concurrencyPerUser must be >= 1 and maxQueuedPerUser >= 0');
    }
    this.#options = options;
  }

  /** Runs `work` for `userId` when the user's turn comes; rejects with 429 when the queue is full. */
  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    let lane = this.#lanes.get(userId);
    if (lane === undefined) {
      lane = { running: 0, waiting: [] };
      this.#lanes.set(userId, lane);
    }
    if (lane.running >= this.#options.concurrencyPerUser) {
      if (lane.waiting.length >= this.#options.maxQueuedPerUser) {
        throw problem(429, 'busy', 'too many pushes of this user are waiting; retry later', {
          retryAfterMs: 1000,
        });
      }
      await new Promise<void>((resolve) => lane?.waiting.push(resolve));
    } else {
      lane.running++;
    }
    try {
      return await work();
    } finally {
      const next = lane.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays as it is.
      if (next !== undefined) next();
      else if (--lane.running === 0) this.#lanes.delete(userId);
    }
  }
}
