import type { ReplicationOptions } from '../api/replication-options.js';
import type { DeviceClockHistory } from '../clock/device-clock.js';
import type { StartedEngine } from '../engine/start-engine.js';
import type { SyncEnvironment } from '../env/types.js';
import { asSyncError } from '../errors/as-sync-error.js';
import type { Notifier } from '../observe/notifier.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ServerLimitsInfo } from '../protocol/server-info.js';
import { LOCAL_NAMESPACE, LOCAL_SCOPE, userNamespace } from '../replica/keys.js';
import { openReplica } from '../replica/load.js';
import { Replica } from '../replica/replica.js';
import { AuthPause } from '../replication/auth-pause.js';
import { Replicator } from '../replication/replicator.js';
import type { WriteLimits } from '../replication/write-limits.js';
import type { TargetingServices } from '../sessions/session-targeting.js';
import type { StatusMachine } from '../status/status-machine.js';
import type { StorageAdapter } from '../storage/types.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';
import { claimLocalData } from './claim.js';

/** The client's parts a {@link SessionSwitch} works with. */
export interface SessionSwitchParts {
  /** The client's options (claim policy, scope, replication sizes and timings). */
  readonly options: ReplicationOptions;
  /** The client's environment (the auth pause's timers). */
  readonly env: SyncEnvironment;
  /** The client's transport. */
  readonly transport: SyncTransport;
  /** Device storage. */
  readonly storage: StorageAdapter;
  /** The client's batched change notifications. */
  readonly notifier: Notifier;
  /** The client's status. */
  readonly status: StatusMachine;
  /** The device's clock history (a namespace is remembered before anything is written to it). */
  readonly clockHistory: DeviceClockHistory;
  /** The server's write limits, learnt at each sign-in. */
  readonly limits: WriteLimits;
  /** Session targeting, when the app opted in (set once it is attached to the client). */
  targeting: TargetingServices | null;
  /** The started engine, or `null` before `start()`. */
  engine(): StartedEngine | null;
  /** `false` once the client stopped. */
  running(): boolean;
}

/**
 * Sign-in, sign-out and user change: which replica is live (the signed-in user's, or the
 * `local` one while signed out), claiming data written while signed out, and the replicator of
 * the session (started when the switch has finished, stopped at the next one, restarted after
 * an `auth` pause). Session changes are carried out one at a time, in order.
 *
 * Its protected members are the seams of the tabs entry's `TabSessionSwitch` (a follower tab
 * replicates nothing, and an election reloads the replica), so an app without tabs does not
 * ship that part.
 */
export class SessionSwitch {
  readonly #parts: SessionSwitchParts;
  /** Retries replication of the current session after an `auth` pause. */
  readonly #authPause: AuthPause;
  #session: AuthSession | null = null;
  #replica: Replica = new Replica(LOCAL_NAMESPACE, LOCAL_SCOPE);
  #localReplica: Replica | null = null;
  #replicator: Replicator | null = null;
  /** The server's limits, asked at the last sign-in (`undefined` when it did not tell). */
  #serverLimits: Promise<ServerLimitsInfo | undefined> | undefined;
  #switching: Promise<void> = Promise.resolve();

  constructor(parts: SessionSwitchParts) {
    this.#parts = parts;
    this.#authPause = new AuthPause(parts.env, () => this.resume());
  }

  /** The signed-in session, or `null`. */
  get session(): AuthSession | null {
    return this.#session;
  }

  /** The live replica: the signed-in user's (possibly still loading), or the local one. */
  get replica(): Replica {
    return this.#replica;
  }

  /** The replicator of the current session, while it runs. */
  get replicator(): Replicator | null {
    return this.#replicator;
  }

  /** Resolves once every session change so far has been carried out. */
  settled(): Promise<void> {
    return this.#switching;
  }

  /** The scope a signed-in user's writes go to. */
  scopeFor(session: AuthSession): string {
    return this.#parts.options.scopeFor?.(session) ?? `user:${session.userId}`;
  }

  /**
   * A session change takes effect at once: the view switches to the new user's namespace (which
   * may still be loading), so a write made right after a sign-in goes to that user and never to
   * the previous one. Loading, claiming local data and starting replication follow, one session
   * change at a time, in order.
   */
  change(session: AuthSession | null): Promise<void> {
    const previous = this.#session;
    this.stop();
    this.#session = session;
    let replica: Replica;
    if (session === null) {
      replica = this.openLocal();
    } else if (previous?.userId === session.userId) {
      replica = this.#replica; // same user, new auth session: same data
    } else {
      replica = this.open(userNamespace(session.userId), this.scopeFor(session));
    }
    this.swap(replica);
    this.#parts.status.sessionChanged(session?.userId ?? null);
    this.refresh(replica);
    this.chain(() => this.finish(session, replica));
    return this.#switching;
  }

  /**
   * Builds a new replicator for the same session after an `auth` pause (the token may be good
   * again: the transport asks `getToken` on the next request). `undefined` when there is
   * nothing to resume (signed out, stopped, still switching).
   */
  resume(): Replicator | undefined {
    // A replicator is only started for the signed-in session of a started client, and `stop()`
    // (the first step of every session change) drops it: none means signed out, stopped, or
    // the session switch has not finished.
    if (this.#replicator === null || !this.#parts.running()) return undefined;
    if (!this.#replicator.stopped) return this.#replicator;
    const engine = this.#parts.engine() as StartedEngine;
    return this.#startReplicator(engine, this.#session as AuthSession, this.#replica);
  }

  /**
   * Stops replicating (a session change, a tab losing the lead, the client stopping), and with
   * it any retry after an `auth` pause (the next session's waits start over).
   */
  stop(): void {
    this.#authPause.cancel();
    this.#replicator?.stop();
    this.#replicator = null;
    this.#parts.targeting?.signedOut();
  }

  /** Refreshes the status counts of `replica`. */
  protected refresh(replica: Replica): void {
    this.#parts.engine()?.ctx.refreshCounts(replica);
  }

  /** Carries out `step` after every session change so far. */
  protected chain(step: () => Promise<void>): void {
    this.#switching = this.#switching
      .then(step)
      .catch((error: unknown) => this.#parts.status.failed(asSyncError(error)));
  }

  /** Opens the replica of `namespace` (loading from storage). */
  protected open(namespace: string, scope: string, outbox?: Outbox): Replica {
    const replica: Replica = openReplica(
      this.#parts.storage,
      namespace,
      scope,
      (touched) => {
        if (replica !== this.#replica) return;
        for (const [collection, id] of touched) this.#parts.notifier.changed(collection, id);
        // The counts go to the status machine, whose change wakes the subscribers (its flush is
        // the notifier's next batch), also when no record changed: the lists may have.
        this.refresh(replica);
      },
      // The device must know the namespace before any write lands in it (see DeviceClockHistory).
      this.#parts.clockHistory.remember(namespace),
      outbox,
    );
    return replica;
  }

  /** The replica of data written while signed out, opened once (again when `reload`). */
  protected openLocal(reload?: boolean): Replica {
    if (reload || this.#localReplica === null) {
      this.#localReplica = this.open(LOCAL_NAMESPACE, LOCAL_SCOPE);
    }
    return this.#localReplica;
  }

  /** Once `replica` is loaded: restores the clock from it, then {@link replicate}s. */
  protected async finish(session: AuthSession | null, replica: Replica): Promise<void> {
    // Session changes come only from a started client (see `SyncClient.start`).
    const engine = this.#parts.engine() as StartedEngine;
    const { ctx } = engine;
    await replica.ready;
    if (this.#session !== session) return; // superseded while loading
    // Our own history is restored as is; what others wrote is merged under the drift bound.
    ctx.clock.restore(replica.lastHlc);
    if (replica.seenHlc !== '') ctx.clock.receive(replica.seenHlc);
    await this.replicate(session, replica, engine);
  }

  /**
   * Claims the data written while signed out and starts replicating `session` (nothing to do
   * while signed out). Resolves `false` when superseded or stopped meanwhile.
   */
  protected async replicate(
    session: AuthSession | null,
    replica: Replica,
    engine: StartedEngine,
  ): Promise<boolean> {
    if (session === null) return true;
    const { ctx } = engine;
    engine.retryer.clear();
    // `replica` is never the local one: a signed-in session's replica is opened in its user's
    // namespace (`change`, the tabs' `roleChanged`); only `openLocal` opens the local one.
    const local = this.openLocal();
    await local.ready;
    await claimLocalData(
      ctx,
      this.#parts.options.claimLocalData ?? 'auto',
      session,
      local,
      replica,
      () => this.#session === session,
    );
    if (this.#session !== session || !this.#parts.running()) return false;
    ctx.refreshCounts(replica);
    this.#serverLimits = this.#parts.limits.learnFrom(this.#parts.transport, ctx.env);
    this.#startReplicator(engine, session, replica);
    this.#parts.targeting?.signedIn({ ...engine, session, scope: this.scopeFor(session) });
    return true;
  }

  #startReplicator(engine: StartedEngine, session: AuthSession, replica: Replica): Replicator {
    const options = this.#parts.options;
    const pullPageSize = options.pullPageSize ?? 1000;
    const replicator = new Replicator({
      ...engine, // its context, retryer and client id
      replica,
      session,
      transport: this.#parts.transport,
      scopes: [replica.scope],
      pushBatchSize: options.pushBatchSize ?? 100,
      pullPageSize,
      // An initial sync waits for the server's limits (asked at sign-in): without them, or
      // with a server that does not tell its maxPullLimit, its pages are catch-up sized.
      initialPullPageSize: async () => {
        const max = (await this.#serverLimits)?.maxPullLimit;
        return max ? Math.min(options.initialPullPageSize ?? 5000, max) : pullPageSize;
      },
      pullIntervalMs: options.pullIntervalMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      onAuthPaused: () => this.#authPause.schedule(),
      onLimits: (limits) => this.#parts.limits.learn(limits),
    });
    this.#replicator = replicator;
    replicator.start();
    return replicator;
  }

  /**
   * Makes `next` the live replica and announces every record that may look different. (Its
   * callers then refresh the status, which wakes the subscribers also when no record changed.)
   */
  protected swap(next: Replica): void {
    const previous = this.#replica;
    if (previous === next) return;
    this.#replica = next;
    for (const replica of [previous, next]) {
      for (const collection of replica.store.collections()) {
        for (const id of replica.store.viewIds(collection)) {
          this.#parts.notifier.changed(collection, id);
        }
      }
    }
  }
}
