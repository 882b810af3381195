import type { SyncEvents } from '../api/events.js';
import type { DeviceClockHistory } from '../clock/device-clock.js';
import { HybridLogicalClock } from '../clock/hlc.js';
import { lww } from '../conflict/resolvers.js';
import type { ConflictResolver } from '../conflict/types.js';
import type { SyncEnvironment } from '../env/types.js';
import type { SyncError } from '../errors/sync-error.js';
import { loadClientId } from '../ids/client-id.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Emitter } from '../observe/emitter.js';
import type { Notifier } from '../observe/notifier.js';
import type { Replica } from '../replica/replica.js';
import { Retryer, type RetryOptions } from '../replication/retryer.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { CollectionDeclarations } from '../schema/collections.js';
import type { StatusMachine } from '../status/status-machine.js';
import type { StorageAdapter } from '../storage/types.js';
import type { CollectionGuard } from '../write/collection-guard.js';
import type { EngineContext } from './context.js';

/** What replication needs once the client has started (its clock, retryer and id). */
export interface StartedEngine {
  /** The engine context. */
  readonly ctx: EngineContext;
  /** The client's one retryer. */
  readonly retryer: Retryer;
  /** This installation's client id. */
  readonly clientId: string;
}

/** What {@link startEngine} starts from. */
export interface EngineParts {
  /** Time, timers, randomness, online detection. */
  env: SyncEnvironment;
  /** Durable storage. */
  storage: StorageAdapter;
  /** Makes ids. */
  newId: IdGenerator;
  /** The client's options that shape the engine. */
  options: {
    collections?: CollectionDeclarations;
    conflict?: ConflictResolver;
    maxDriftMs?: number;
    retry?: RetryOptions;
  };
  /** The namespaces the device wrote to, whose history the clock resumes after. */
  clockHistory: DeviceClockHistory;
  /** Batches view change notifications. */
  notifier: Notifier;
  /** The status machine. */
  status: StatusMachine;
  /** Checks server records against the collections' schemas. */
  guard: CollectionGuard;
  /** The client's events. */
  emitter: Emitter<SyncEvents>;
  /** The live replica. */
  liveReplica(): Replica;
  /** The engine of an earlier start of this client (a restart resumes its clock), or `null`. */
  previous: StartedEngine | null;
  /** Every failed attempt that will be retried, as a `SyncError`, with its number. */
  onRetry(failure: SyncError, attempt: number): void;
}

/**
 * Loads (or makes) the client id, restores the HLC from everything the device wrote, and builds
 * the engine context (see {@link EngineContext}) and the one retryer.
 */
export async function startEngine(parts: EngineParts): Promise<StartedEngine> {
  const { env, options, previous } = parts;
  const clientId = previous?.clientId ?? (await loadClientId(parts.storage, parts.newId));
  const clock = new HybridLogicalClock({
    nodeId: clientId,
    now: () => env.now(),
    maxDriftMs: options.maxDriftMs,
    last: previous?.ctx.clock.last ?? '', // a restart resumes after the earlier start's clock
  });
  await parts.clockHistory.restore(clock);
  const { notifier, status, emitter, guard } = parts;
  const defaultResolver = options.conflict ?? lww();
  const ctx: EngineContext = {
    env,
    storage: parts.storage,
    clock,
    newId: parts.newId,
    notifier,
    status,
    resolverFor: (collection) => options.collections?.[collection]?.conflict ?? defaultResolver,
    emitConflict: (conflict) => {
      emitter.emit('conflict', conflict);
      notifier.touch();
    },
    emitRejected: (letter) => {
      emitter.emit('rejected', letter);
      notifier.touch();
    },
    // A record from the server that fails its collection's schema is quarantined instead of
    // applied (written with its page), so the view never shows it as valid; a valid version or
    // a delete ends the quarantine.
    admitServerRecord: guard.hasSchemas
      ? (replica, record, write) => {
          const issues = guard.serverRecordIssues(record);
          if (issues === null) {
            if (write.endQuarantine(record.collection, record.id)) notifier.touch();
            return true;
          }
          const { collection, id } = record;
          const invalid: InvalidRecord = Object.freeze({ collection, id, record, issues });
          write.quarantine(invalid);
          if (replica === parts.liveReplica()) emitter.emit('invalid-record', invalid);
          notifier.touch();
          return false;
        }
      : null,
    refreshCounts: (replica) => {
      if (replica === parts.liveReplica()) {
        status.counts(replica.outbox.size, replica.conflicts.size, replica.deadLetters.size);
      }
    },
  };
  const retryer = new Retryer({
    env,
    ...options.retry,
    onRetry: parts.onRetry,
  });
  return { ctx, retryer, clientId };
}
