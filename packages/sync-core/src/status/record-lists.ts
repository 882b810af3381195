import type { ParkedConflict } from '../conflict/types.js';
import type { Replica } from '../replica/replica.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import { EMPTY_LIST, stableList } from '../store/stable-list.js';

/**
 * The lists of what needs the app's attention in the live replica (dead letters, parked
 * conflicts, invalid server records), each the same array until an item changes.
 */
export class RecordLists {
  readonly #replica: () => Replica;
  #deadLetters: readonly DeadLetter[] = EMPTY_LIST;
  #conflicts: readonly ParkedConflict[] = EMPTY_LIST;
  #invalid: readonly InvalidRecord[] = EMPTY_LIST;

  /** @param replica - the live replica */
  constructor(replica: () => Replica) {
    this.#replica = replica;
  }

  /** `client.deadLetters()`. */
  deadLetters(): readonly DeadLetter[] {
    this.#deadLetters = stableList(this.#deadLetters, [...this.#replica().deadLetters.values()]);
    return this.#deadLetters;
  }

  /** `client.invalidRecords()`. */
  invalidRecords(): readonly InvalidRecord[] {
    this.#invalid = stableList(this.#invalid, [...this.#replica().invalidRecords.values()]);
    return this.#invalid;
  }

  /** `client.conflicts()`. */
  conflicts(): readonly ParkedConflict[] {
    const parked = [...this.#replica().conflicts.values()].map((stored) => stored.conflict);
    this.#conflicts = stableList(this.#conflicts, parked);
    return this.#conflicts;
  }
}
