import type { ParkedConflict } from '../conflict/types.js';
import { Outbox } from '../outbox/outbox.js';
import type { Mutation } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import { RecordStore } from '../store/record-store.js';

/** A parked conflict as stored: the public view plus the mutation that conflicted. */
export interface StoredConflict {
  /** What `client.conflicts()` shows. */
  conflict: ParkedConflict;
  /** The local mutation that conflicted. */
  mutation: Mutation;
}

/**
 * A replica's lists as plain data: read from storage, or a leader tab's sent to its followers
 * (see tabs/mirror.ts).
 */
export interface ReplicaListsSnapshot {
  /** Parked conflicts. */
  conflicts: readonly StoredConflict[];
  /** Dead letters. */
  deadLetters: readonly DeadLetter[];
  /** Quarantined server records by key. */
  invalid: ReadonlyArray<readonly [string, InvalidRecord]>;
}

/**
 * What a reset under way has learnt of its scope (see `ReplicaBatch.finishReset`): the
 * records its pages returned, how far into the scope's history they reached, and the records
 * our own push answers vouched for meanwhile.
 */
export interface ResetPass {
  /**
   * `true` when the replica held records of the scope as the reset began: any of them may be
   * gone, so every record the pages return is noted. Otherwise (a new client's first pull) only
   * records our push answers brought can be gone, and only those are noted.
   */
  readonly held: boolean;
  /** Records the reset's pages returned (`recordKey`), as {@link held} says. */
  readonly returned: Set<string>;
  /** The highest revision the reset's pages returned. */
  highest: number;
  /** Records our push answers showed on the server meanwhile, by `recordKey`. */
  readonly answered: Map<string, { collection: string; id: string; revision: number }>;
}

/**
 * Everything the client holds for one namespace: base records and view, outbox, dead letters,
 * parked conflicts and checkpoints. One is live at a time; signing in or out swaps it.
 *
 * The lists are read-only from outside: they change only through a `ReplicaBatch`
 * (replica/batch.ts), which builds the storage write of each change with it, so memory and storage
 * cannot disagree on a key (or through `restoreLists`, with lists already durable). The outbox
 * and the record store are their own owners.
 */
export class Replica {
  /** Storage namespace. */
  readonly namespace: string;
  /** The scope new local writes go to. */
  scope: string;
  /** Queued mutations. */
  readonly outbox: Outbox;
  /** Base records and the optimistic view. */
  readonly store: RecordStore;
  /** Dead letters by mutation id. */
  readonly deadLetters: ReadonlyMap<string, DeadLetter> = new Map();
  /** Parked conflicts by mutation id. */
  readonly conflicts: ReadonlyMap<string, StoredConflict> = new Map();
  /** Server records that failed their collection's schema, by `invalidKey`. */
  readonly invalidRecords: ReadonlyMap<string, InvalidRecord> = new Map();
  /** Checkpoints by scope. */
  readonly checkpoints: ReadonlyMap<string, string> = new Map();
  /**
   * Per scope, the highest revision that pulls read to their end returned in this run: every
   * record the server held up to there has reached the replica (a lower bound of where the
   * checkpoint is; kept in memory only).
   */
  readonly pulledRevisions: ReadonlyMap<string, number> = new Map();
  /**
   * Scopes being re-pulled from `null` (after `resetRequired`, or a first pull), with what the
   * pull learnt so far (`null` when the reset was persisted by an earlier run and must start
   * over).
   */
  readonly resetting: ReadonlyMap<string, Readonly<ResetPass> | null> = new Map();
  /**
   * Settles when the namespace has been read from storage. Until then the replica already takes
   * writes (they show in the view at once), but their storage writes wait for it, because their
   * outbox positions are assigned after the stored entries.
   */
  ready: Promise<void> = Promise.resolve();
  /** `true` once {@link ready} settled successfully (or for a replica that needs no loading). */
  loaded = true;
  /** The latest HLC this installation issued in this namespace (`''` if none). */
  lastHlc = '';
  /** The latest HLC received from the server in this namespace (`''` if none). */
  seenHlc = '';

  /**
   * @param namespace - storage namespace
   * @param scope - scope of new writes
   * @param outbox - its outbox (a leader tab's announces its changes, see tabs/)
   */
  constructor(namespace: string, scope: string, outbox = new Outbox()) {
    this.namespace = namespace;
    this.scope = scope;
    this.outbox = outbox;
    // The size check skips a lookup for every pulled record when nothing is pending.
    this.store = new RecordStore((collection, id) =>
      outbox.size > 0 ? outbox.forRecord(collection, id) : undefined,
    );
  }
}
