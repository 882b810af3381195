import type { Poke, PullResponse, PushResponse, SyncRecord } from '../../protocol/types.js';
import type { AuthSession } from '../../transport/types.js';
import type { AppliedLogEntry } from '../memory-push.js';
import { createMemoryServer, type MemoryServer } from '../memory-server.js';
import { SIM_EPOCH_MS } from './device-env.js';
import type { SimScheduler } from './scheduler.js';

/**
 * The server side of a simulation, as the simulated network reaches it: the in-memory protocol
 * server (mode A) or the real SQL store on PGlite (mode B, in `@syncline/server`'s tests).
 * Calls answer without faults; the network adds them. `transportBackend` makes one from any
 * `SyncTransport`, and states what the simulator relies on.
 */
export interface SimBackend {
  /** A short name printed in reports (`memory`, `pglite`). */
  readonly name: string;
  /**
   * How the backend numbers revisions, handed to the devices' transports (see
   * `SyncTransport.revisions`).
   * @default 'record'
   */
  readonly revisions?: 'scope' | 'record';
  /** Handles a push as `session` (the authenticated caller). May throw a `SyncError`. */
  push(session: AuthSession, body: unknown): Promise<PushResponse>;
  /** Handles a pull as `session`. May throw a `SyncError`. */
  pull(session: AuthSession, query: unknown): Promise<PullResponse>;
  /** Realtime pokes for `scopes` while `session()` may read them; returns the unsubscribe function. */
  watch(
    scopes: readonly string[],
    session: () => AuthSession | null,
    onPoke: (poke: Poke) => void,
  ): () => void;
  /** Every record of `scope`, tombstones included. */
  records(scope: string): Promise<SyncRecord[]>;
  /**
   * Every applied mutation, in commit order; `null` when the backend cannot list them (the
   * server-log checks of INV-2 and INV-7 are then skipped).
   */
  appliedLog(): Promise<readonly AppliedLogEntry[] | null>;
  /**
   * Removes every tombstone (and raises the purge horizon); returns how many. Without it the
   * tombstone-purge fault does not fire.
   */
  purgeTombstones?(): Promise<number>;
  /**
   * `false` when the backend puts no limit on a record's fields: the workload then writes no
   * poison pill (a record past 24 fields, which the backend must reject permanently).
   * @default true
   */
  readonly fieldLimit?: boolean;
  /** A restart: caches drop, durable state stays. */
  restart(): Promise<void>;
  /** The chaos phase ended: the backend's own faults, if it has any, stop. */
  heal?(): void;
  /** Mutations answered from a stored outcome so far. */
  dedupeHits(): Promise<number>;
  /**
   * Orders two checkpoints of one scope (negative: `a` is earlier), for the INV-5 check. Only a
   * backend that knows its checkpoint format implements it; checkpoints stay opaque to clients.
   */
  compareCheckpoints?(a: string, b: string): number;
}

/** Options of {@link memoryBackend}. */
export interface MemoryBackendOptions {
  /** The run's event queue: the server's clock and poke delivery run on it. */
  scheduler: SimScheduler;
  /**
   * Largest number of fields a record may have; a patch past it is rejected permanently (the
   * workload's poison pills rely on it).
   * @default 24
   */
  maxFieldsPerRecord?: number;
}

/** Mode A: the in-memory protocol server of the testing kit on the sim's clock and queue. */
export function memoryBackend(
  options: MemoryBackendOptions,
): SimBackend & { server: MemoryServer } {
  const { scheduler } = options;
  const server = createMemoryServer({
    environment: { now: () => SIM_EPOCH_MS + scheduler.now },
    schedule: (fn) => {
      scheduler.schedule(0, fn);
    },
    limits: { maxFieldsPerRecord: options.maxFieldsPerRecord ?? 24 },
  });
  return {
    name: 'memory',
    revisions: 'scope',
    server,
    push: async (session, body) => server.push(session, body),
    pull: async (session, query) => server.pull(session, query),
    watch: (scopes, session, onPoke) => server.watch(scopes, session, onPoke),
    records: async (scope) => server.records(scope),
    appliedLog: async () => server.appliedLog,
    purgeTombstones: async () => server.purgeTombstones(),
    // The memory server keeps nothing but durable state; the network drops what was in flight.
    restart: async () => {},
    dedupeHits: async () => server.stats.dedupeHits,
    compareCheckpoints: (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
  };
}
