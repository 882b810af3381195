import { SyncError } from '../../errors/sync-error.js';
import type {
  Mutation,
  Poke,
  PullResponse,
  PushResponse,
  SyncRecord,
} from '../../protocol/types.js';
import type { AuthSession, SyncTransport } from '../../transport/types.js';
import type { AppliedLogEntry } from '../memory-push.js';
import type { SimBackend } from './backend.js';
import type { SimScheduler } from './scheduler.js';

/** A mutation the backend applied, as {@link TransportBackendOptions.appliedMutations} lists it. */
export interface AppliedMutation {
  /** The mutation id. */
  mutationId: string;
  /**
   * Its place in its scope's commit order: the scope-wide version the write created (with the
   * syncline server, the record's new revision).
   */
  version: number;
  /** The user that pushed it. */
  userId: string;
  /** The client id of the push that applied it. */
  clientId: string;
}

/**
 * Options of {@link transportBackend}: the simulator running against any `SyncTransport`.
 *
 * The simulator signs devices in and out, crashes and restarts them, and puts its own faulty
 * network (drops, lost answers, duplicates, delays, partitions, 5xx, 429) between each device and
 * the transport that {@link connect} returns. What it relies on, rule by rule; a transport that
 * breaks one makes the named invariant fail, not the simulator:
 *
 * 1. **Sessions.** `connect(session)` returns a transport that acts as `session` on every call,
 *    whatever happens elsewhere. Users are `u1`, `u2` and `u3`, each reading and writing its own
 *    scope `user:<userId>` only (INV-14); the backend must accept them as they come (sign-up on
 *    first use). A device signs in as another user for a while: the backend must let one client
 *    id push for several users in turn (DESIGN §2), else INV-1/INV-12 fail.
 * 2. **Revision check.** A mutation applies only when its `baseRevision` equals the record's
 *    revision (0: absent, tombstones included), else `conflict` with the server's record
 *    (INV-7, INV-3).
 * 3. **Stored outcomes.** A mutation id seen again gets the outcome it got the first time and
 *    changes nothing: the network re-sends requests whose answer was lost or that it duplicated
 *    (INV-2, INV-1).
 * 4. **Tombstones and pulls.** Deletes leave tombstones that pulls return; a pull from a
 *    checkpoint returns every change after it exactly once, in pages of at most `limit`; a
 *    checkpoint the backend cannot serve any more answers `resetRequired` (INV-4, INV-5).
 * 5. **Permanent rejection of the poison pill.** A write that leaves a record with more than
 *    24 fields is answered `rejected` (the workload's poison pill, INV-11). A backend without
 *    such a limit sets {@link fieldLimit} to `false`: the workload then writes no poison pill.
 * 6. **Settled work.** Every change a call makes is done when its promise settles: nothing
 *    changes state later in the background (the simulator waits for a call's promise before
 *    its virtual time moves on). Real I/O (HTTP, a database) is allowed; the run is then
 *    deterministic as far as that I/O is.
 * 7. **Time.** A backend that stamps times should read them from the scheduler passed to
 *    {@link reset} (`epochMs + scheduler.now`); the real clock makes the run's digest vary, not
 *    its invariants.
 *
 * Realtime: the transport's `subscribe` is not used. The simulator derives pokes from the push
 * answers it sees (a poke is a hint; a client must converge without it) and loses some of them
 * on purpose.
 */
export interface TransportBackendOptions {
  /** A short name printed in reports, e.g. `rest`. */
  name: string;
  /**
   * How the backend numbers revisions (see `SyncTransport.revisions`); the devices' transports
   * declare it.
   * @default 'record'
   */
  revisions?: 'scope' | 'record';
  /**
   * A transport acting as `session`. Called once per device and user (the simulator caches it),
   * and once per user with session id `sim-oracle` to read the final state.
   */
  connect(session: AuthSession): SyncTransport | Promise<SyncTransport>;
  /**
   * Empties the backend before the seed runs, and binds its clock to `scheduler` if it has one.
   * Runs once, before any `connect`.
   */
  reset(scheduler: SimScheduler): void | Promise<void>;
  /**
   * Every record of `scope`, tombstones included: the authoritative state the final checks
   * compare each replica with.
   * @default pulls the scope from the start through `connect({ userId, sessionId: 'sim-oracle' })`
   */
  records?(scope: string): Promise<SyncRecord[]>;
  /**
   * Every applied mutation as the backend's own log has it (for INV-2 "applied at most once"
   * and INV-7 "no blind overwrite", replayed in `version` order per scope).
   * @default undefined: those two server-log checks are skipped (every other check runs)
   */
  appliedMutations?(): Promise<readonly AppliedMutation[]>;
  /**
   * Removes every tombstone and moves the purge horizon, so that devices pulling from an older
   * checkpoint get `resetRequired`; returns how many were removed.
   * @default undefined: the tombstone-purge fault does not fire
   */
  purgeTombstones?(): Promise<number>;
  /**
   * A server restart: caches drop, durable state stays.
   * @default nothing to do
   */
  restart?(): Promise<void>;
  /**
   * Called when the chaos phase ends: faults the backend injects on its own (an HTTP fault
   * layer) must stop here, so that the run can reach quiescence.
   * @default nothing to do
   */
  heal?(): void;
  /**
   * Orders two checkpoints of one scope (negative: `a` is earlier) for the INV-5 check.
   * @default undefined: checkpoint monotonicity is not checked
   */
  compareCheckpoints?(a: string, b: string): number;
  /**
   * `false` when the backend puts no limit on a record's fields (rule 5): the workload then
   * writes no poison pill.
   * @default true
   */
  fieldLimit?: boolean;
}

/** A record of a pushed mutation, to join with the backend's log and derive pokes. */
type Pushed = Pick<Mutation, 'id' | 'scope' | 'collection' | 'recordId' | 'op'>;

/** The session the final-state reads use. */
const ORACLE_SESSION = 'sim-oracle';

/**
 * Runs the simulator against any `SyncTransport`: pass the result as `simulate({ backend })`.
 * See {@link TransportBackendOptions} for what the transport must guarantee.
 *
 * @example
 * ```ts
 * const result = await simulate({
 *   seed: 7,
 *   backend: transportBackend({
 *     name: 'documents',
 *     reset: () => { db = new DocumentDb(); },
 *     connect: (session) => documentTransport({ db, session: createSessionSource(session) }),
 *     fieldLimit: false,
 *   }),
 * });
 * ```
 */
export function transportBackend(
  options: TransportBackendOptions,
): (scheduler: SimScheduler) => Promise<SimBackend> {
  return async (scheduler) => {
    await options.reset(scheduler);
    return new TransportSimBackend(options, scheduler);
  };
}

interface Watcher {
  scopes: ReadonlySet<string>;
  session: () => AuthSession | null;
  onPoke: (poke: Poke) => void;
}

class TransportSimBackend implements SimBackend {
  readonly name: string;
  readonly revisions?: 'scope' | 'record';
  readonly fieldLimit: boolean;
  readonly compareCheckpoints?: (a: string, b: string) => number;
  readonly purgeTombstones?: () => Promise<number>;
  readonly #options: TransportBackendOptions;
  readonly #scheduler: SimScheduler;
  readonly #transports = new Map<string, Promise<SyncTransport>>();
  readonly #watchers = new Set<Watcher>();
  readonly #pushed = new Map<string, Pushed>();
  /** Mutation ids that got a final outcome (applied or rejected) at least once. */
  readonly #settled = new Set<string>();
  #dedupeHits = 0;

  constructor(options: TransportBackendOptions, scheduler: SimScheduler) {
    this.#options = options;
    this.#scheduler = scheduler;
    if (options.revisions !== undefined) this.revisions = options.revisions;
    this.name = options.name;
    this.fieldLimit = options.fieldLimit ?? true;
    if (options.compareCheckpoints !== undefined)
      this.compareCheckpoints = options.compareCheckpoints;
    const purge = options.purgeTombstones;
    if (purge !== undefined) this.purgeTombstones = () => purge();
  }

  #transport(session: AuthSession): Promise<SyncTransport> {
    const key = `${session.userId}\u0000${session.sessionId}`;
    let transport = this.#transports.get(key);
    if (transport === undefined) {
      transport = Promise.resolve(this.#options.connect({ ...session }));
      this.#transports.set(key, transport);
    }
    return transport;
  }

  async push(session: AuthSession, body: unknown): Promise<PushResponse> {
    const request = body as { clientId: string; mutations: Mutation[] };
    for (const m of request.mutations) {
      if (this.#settled.has(m.id)) this.#dedupeHits++;
      if (!this.#pushed.has(m.id)) {
        const { id, scope, collection, recordId, op } = m;
        this.#pushed.set(id, { id, scope, collection, recordId, op });
      }
    }
    const transport = await this.#transport(session);
    const answer = await transport.push(request as Parameters<SyncTransport['push']>[0]);
    const versions = new Map<string, number>();
    for (const result of answer.results) {
      if (result.status !== 'conflict') this.#settled.add(result.id);
      const scope = this.#pushed.get(result.id)?.scope;
      if (result.status !== 'applied' || scope === undefined) continue;
      versions.set(scope, Math.max(versions.get(scope) ?? 0, result.revision));
    }
    for (const [scope, version] of versions) this.#poke(scope, version, request.clientId);
    return answer;
  }

  async pull(session: AuthSession, query: unknown): Promise<PullResponse> {
    const transport = await this.#transport(session);
    return transport.pull(query as Parameters<SyncTransport['pull']>[0]);
  }

  watch(
    scopes: readonly string[],
    session: () => AuthSession | null,
    onPoke: (poke: Poke) => void,
  ): () => void {
    const watcher: Watcher = { scopes: new Set(scopes), session, onPoke };
    this.#watchers.add(watcher);
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  async records(scope: string): Promise<SyncRecord[]> {
    if (this.#options.records !== undefined) return this.#options.records(scope);
    const transport = await this.#transport({
      userId: scope.slice('user:'.length),
      sessionId: ORACLE_SESSION,
    });
    const records = new Map<string, SyncRecord>();
    let checkpoint: string | null = null;
    for (let pages = 0; ; pages++) {
      if (pages > 100_000) throw new SyncError('server', `pull of ${scope} never ended`);
      const page: PullResponse = await transport.pull({ scope, checkpoint, limit: 1000 });
      for (const change of page.changes) records.set(`${change.collection}/${change.id}`, change);
      checkpoint = page.checkpoint;
      if (!page.hasMore) return [...records.values()];
    }
  }

  async appliedLog(): Promise<readonly AppliedLogEntry[] | null> {
    if (this.#options.appliedMutations === undefined) return null;
    const log: AppliedLogEntry[] = [];
    for (const row of await this.#options.appliedMutations()) {
      const m = this.#pushed.get(row.mutationId);
      if (m === undefined) continue;
      log.push({
        mutationId: row.mutationId,
        scope: m.scope,
        version: row.version,
        collection: m.collection,
        recordId: m.recordId,
        op: m.op,
        userId: row.userId,
        clientId: row.clientId,
        sessionId: '',
      });
    }
    return log.sort((a, b) =>
      a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.version - b.version,
    );
  }

  async restart(): Promise<void> {
    await this.#options.restart?.();
  }

  heal(): void {
    this.#options.heal?.();
  }

  async dedupeHits(): Promise<number> {
    return this.#dedupeHits;
  }

  /** Pokes every watcher of `scope` whose session may read it, on the sim queue. */
  #poke(scope: string, version: number, originClientId: string): void {
    for (const watcher of this.#watchers) {
      if (!watcher.scopes.has(scope)) continue;
      this.#scheduler.schedule(0, () => {
        const current = watcher.session();
        if (!this.#watchers.has(watcher) || current === null || `user:${current.userId}` !== scope)
          return;
        watcher.onPoke({ scope, version, originClientId });
      });
    }
  }
}
