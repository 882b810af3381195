import type { SyncEvents } from '../api/events.js';
import type { HybridLogicalClock } from '../clock/hlc.js';
import { lww } from '../conflict/resolvers.js';
import type { ConflictResolver, ParkedConflict } from '../conflict/types.js';
import type { SyncEnvironment } from '../env/types.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Emitter } from '../observe/emitter.js';
import type { Notifier } from '../observe/notifier.js';
import type { SyncRecord } from '../protocol/types.js';
import type { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { CollectionDeclarations } from '../schema/collections.js';
import { admitServerRecord } from '../schema/invalid-records.js';
import type { StatusMachine } from '../status/status-machine.js';
import type { StorageAdapter } from '../storage/types.js';
import type { CollectionGuard } from '../write/collection-guard.js';

/**
 * What the client's parts share: the injected sources, the live replica and the ways to tell
 * the app about changes. The coordinator (`SyncClient`) builds it once; the writer and the
 * replication loops receive it instead of reaching for globals.
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

/** What {@link createEngineContext} builds the context from. */
export interface EngineContextParts {
  /** Time, timers, randomness, online detection. */
  env: SyncEnvironment;
  /** Durable storage. */
  storage: StorageAdapter;
  /** The HLC of this installation. */
  clock: HybridLogicalClock;
  /** Makes ids. */
  newId: IdGenerator;
  /** Batches view change notifications. */
  notifier: Notifier;
  /** The status machine. */
  status: StatusMachine;
  /** The client's options (collections and their resolvers, the default resolver). */
  options: { collections?: CollectionDeclarations; conflict?: ConflictResolver };
  /** Checks writes and server records against the collections' schemas. */
  guard: CollectionGuard;
  /** The client's events. */
  emitter: Emitter<SyncEvents>;
  /** The live replica (events and counts are only for it). */
  liveReplica(): Replica;
}

/** Builds the context the client's parts share. */
export function createEngineContext(parts: EngineContextParts): EngineContext {
  const { notifier, status, emitter, guard } = parts;
  const defaultResolver = parts.options.conflict ?? lww();
  return {
    env: parts.env,
    storage: parts.storage,
    clock: parts.clock,
    newId: parts.newId,
    notifier,
    status,
    resolverFor: (collection) =>
      parts.options.collections?.[collection]?.conflict ?? defaultResolver,
    emitConflict: (conflict) => {
      emitter.emit('conflict', conflict);
      notifier.touch();
    },
    emitRejected: (letter) => {
      emitter.emit('rejected', letter);
      notifier.touch();
    },
    admitServerRecord: guard.hasSchemas
      ? (replica, record, write) => {
          const invalid = admitServerRecord(guard, record, write);
          if (invalid === null) return true; // applied; the quarantine did not change
          if (invalid !== undefined && replica === parts.liveReplica()) {
            emitter.emit('invalid-record', invalid);
          }
          notifier.touch();
          return invalid === undefined;
        }
      : null,
    refreshCounts: (replica) => {
      if (replica === parts.liveReplica()) {
        status.counts(replica.outbox.size, replica.conflicts.size, replica.deadLetters.size);
      }
    },
  };
}
