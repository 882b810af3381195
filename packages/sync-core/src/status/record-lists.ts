import type { ParkedConflict } from '../conflict/types.js';
import type { Replica } from '../replica/replica.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';

/**
 * `cached` again when it still holds exactly `values` (by reference, in order), else a new
 * frozen array: list snapshots stay stable for React until they change.
 */
export function stableList<T>(cached: readonly T[], values: readonly T[]): readonly T[] {
  if (cached.length === values.length && cached.every((item, i) => item === values[i])) {
    return cached;
  }
  return Object.freeze([...values]);
}

/**
 * The lists of what needs the app's attention in the live replica (dead letters, parked
 * conflicts, invalid server records), each the same array until an item changes.
 */
export class RecordLists {
  readonly #replica: () => Replica;
  #deadLetters: readonly DeadLetter[] = Object.freeze([]);
  #conflicts: readonly ParkedConflict[] = Object.freeze([]);
  #invalid: readonly InvalidRecord[] = Object.freeze([]);

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
