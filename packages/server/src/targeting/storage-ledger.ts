/**
 * The storage quota of one user on a single-process database (PGlite), as this process let
 * its uploads by id of undeclared size grow. There the offset of an upload taken in order
 * stays in memory between chunks (session 17), so what the database shows lags behind the
 * bytes held; and every change to a user's storage goes through this process. The ledger
 * keeps what each such upload may grow to (its grant, at least every byte it holds) and the
 * user's total as last computed, so that a chunk that grows an upload is checked without a
 * statement while the total stays under the quota; a statement (with the grants, which the
 * database does not hold) decides otherwise. Decisions that take a statement run one at a time
 * per user.
 *
 * @module
 */

interface UserLedger {
  /** What each upload by id may hold, by upload id. */
  granted: Map<string, number>;
  /** The user's total as of the last decision; `undefined` while one runs or unknown. */
  used: number | undefined;
  /** The decision running, which the next one waits for. */
  turn: Promise<unknown>;
  /** Decisions running or waiting. */
  waiting: number;
}

/** The grants of a user, as two parallel arrays (statement parameters). */
export interface Grants {
  ids: string[];
  bytes: number[];
}

/** See the module doc. One per store, over one single-process database. */
export class StorageLedger {
  readonly #users = new Map<string, UserLedger>();

  #user(userId: string): UserLedger {
    let user = this.#users.get(userId);
    if (user === undefined) {
      user = { granted: new Map(), used: undefined, turn: Promise.resolve(), waiting: 0 };
      this.#users.set(userId, user);
    }
    return user;
  }

  /**
   * Grows the grant of `uploadId` to `to` without a statement when the user's total, known,
   * stays within `quota`; `false` when a statement must decide ({@link decide}).
   */
  tryGrow(userId: string, uploadId: string, to: number, quota: number): boolean {
    const user = this.#users.get(userId);
    const granted = user?.granted.get(uploadId);
    if (user === undefined || granted === undefined) return false;
    if (to <= granted) return true;
    if (user.used === undefined || user.used + (to - granted) > quota) return false;
    user.used += to - granted;
    user.granted.set(uploadId, to);
    return true;
  }

  /**
   * Runs `decide` (a statement that sums the user's storage with {@link Grants}, and what
   * follows from it) after the user's other decisions; the total is unknown meanwhile, so
   * {@link tryGrow} waits for a decision too. `decide` answers its outcome and what it
   * learned: the user's total (`used`) and the grant of an upload (`grant`).
   */
  async decide<T>(
    userId: string,
    decide: (grants: Grants) => Promise<{
      outcome: T;
      used?: number;
      grant?: { uploadId: string; bytes: number };
    }>,
  ): Promise<T> {
    const user = this.#user(userId);
    user.waiting++;
    const run = user.turn.then(async () => {
      user.used = undefined;
      const ids = [...user.granted.keys()];
      const learned = await decide({ ids, bytes: ids.map((id) => user.granted.get(id) ?? 0) });
      if (learned.grant !== undefined) {
        user.granted.set(learned.grant.uploadId, learned.grant.bytes);
      }
      user.used = learned.used;
      return learned.outcome;
    });
    user.turn = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      user.waiting--;
      this.#dropIdle(userId, user);
    }
  }

  /** The upload is over (finished, dropped or swept): its bytes count as the database says. */
  forget(userId: string, uploadId: string): void {
    const user = this.#users.get(userId);
    if (user === undefined) return;
    user.granted.delete(uploadId);
    this.#dropIdle(userId, user);
  }

  #dropIdle(userId: string, user: UserLedger): void {
    if (user.waiting === 0 && user.granted.size === 0) this.#users.delete(userId);
  }
}
