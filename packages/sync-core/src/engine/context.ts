import type { HybridLogicalClock } from '../clock/hlc.js';
import type { ConflictResolver, ParkedConflict } from '../conflict/types.js';
import type { SyncEnvironment } from '../env/types.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Notifier } from '../observe/notifier.js';
import type { SyncRecord } from '../protocol/types.js';
import type { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { StatusMachine } from '../status/status-machine.js';
import type { StorageAdapter } from '../storage/types.js';

/**
 * What the client's parts share: the injected sources, the live replica and the ways to tell
 * the app about changes. `startEngine` (engine/start-engine.ts) builds it once per start; the
 * writer and the replication loops receive it instead of reaching for globals.
 */
export interface EngineContext {
  /** Time, timers, randomness, online detection. */
  readonly env: SyncEnvironment;
  /** Durable storage. */
  readonly storage: StorageAdapter;
  /** The HLC of this installation. */
  readonly clock: HybridLogicalClock;
  /** Makes mutation and transaction ids (UUIDv7). */
  readonly newId: IdGenerator;
  /** Batches view change notifications. */
  readonly notifier: Notifier;
  /** The status machine. */
  readonly status: StatusMachine;
  /** The resolver of a collection. */
  resolverFor(collection: string): ConflictResolver;
  /** Emits `conflict` to the app. */
  emitConflict(conflict: ParkedConflict): void;
  /** Emits `rejected` to the app. */
  emitRejected(deadLetter: DeadLetter): void;
  /**
   * Checks a record from the server against its collection's schema before it is applied:
   * `true` applies it; `false` means it was quarantined (reported, and quarantined in
   * `write`). `null` when no collection has a schema, so the pull path skips the call.
   */
  readonly admitServerRecord:
    | ((replica: Replica, record: SyncRecord, write: ReplicaBatch) => boolean)
    | null;
  /** Re-reads the replica's counts into the status. */
  refreshCounts(replica: Replica): void;
}
