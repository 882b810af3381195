import type { AssetsApi } from '../assets/assets-api.js';
import { HybridLogicalClock } from '../clock/hlc.js';
import { lww } from '../conflict/resolvers.js';
import type { ConflictResolver } from '../conflict/types.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import { createEnvironment } from '../env/environment.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { loadClientId } from '../ids/client-id.js';
import { createUuidV7, type IdGenerator } from '../ids/uuid-v7.js';
import { Emitter } from '../observe/emitter.js';
import type { JsonObject } from '../protocol/types.js';
import { LOCAL_NAMESPACE, LOCAL_SCOPE, userNamespace } from '../replica/keys.js';
import { openReplica } from '../replica/load.js';
import { Replica } from '../replica/replica.js';
import { AuthPause } from '../replication/auth-pause.js';
import { Reachability } from '../replication/reachability.js';
import { Replicator } from '../replication/replicator.js';
import { Retryer } from '../replication/retryer.js';
import { type SyncNowOptions, type SyncNowResult, waitForSync } from '../replication/sync-now.js';
import { WriteLimits } from '../replication/write-limits.js';
import type { CollectionDeclarations, RecordsOf } from '../schema/collections.js';
import type { SessionsApi } from '../sessions/client-sessions.js';
import type { TargetingServices } from '../sessions/session-targeting.js';
import { StatusMachine } from '../status/status-machine.js';
import { indexedDbStorage } from '../storage/indexeddb.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type { MultiTab } from '../tabs/multi-tab.js';
import type { TabLink } from '../tabs/tab-link.js';
import type { TabCall } from '../tabs/tab-messages.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';
import type { ConflictDecision, SyncClient, SyncTransaction, TabRole } from './api.js';
import { checkClientOptions } from './check-options.js';
import { claimLocalData } from './claim.js';
import { CollectionGuard } from './collection-guard.js';
import type { EngineContext } from './context.js';
import { DeviceClockHistory } from './device-clock.js';
import { admitServerRecord } from './invalid-records.js';
import { applyLocalWrites, type LocalWrite } from './local-writer.js';
import { Notifier } from './notifier.js';
import {
  discardDeadLetter,
  recordSyncState,
  resolveParkedConflict,
  retryDeadLetter,
  stableList,
  type WriteWithOps,
} from './settlement.js';
import { buildTransaction } from './transaction-builder.js';
import type {
  DeadLetter,
  InvalidRecord,
  ParkedConflict,
  RecordSyncState,
  SyncClientOptions,
  SyncEnvironment,
  SyncEvents,
  SyncStatus,
} from './types.js';

/**
 * Creates a sync client. Call `start()` before writing.
 *
 * The record type of each collection comes from `collections`: a Standard Schema's output
 * (`{ schema: z.object(...) }`), a plain type (`collection<Todo>()`), else `JsonObject`; it
 * flows to `put`, `patch`, `get`, `query` and events with no type arguments at the call sites.
 *
 * @throws SyncError `invalid` for a missing transport or an out-of-range numeric option
 *
 * @example
 * ```ts
 * const client = createSyncClient({
 *   transport: restTransport({ baseUrl, getToken, session }),
 *   collections: {
 *     todos: { schema: z.object({ title: z.string(), done: z.boolean() }) },
 *     notes: collection<Note>({ conflict: fieldMerge() }),
 *   },
 * });
 * await client.start();
 * await client.put('todos', id, { title: 'Buy milk', done: false });
 * ```
 */
export function createSyncClient<
  Declarations extends CollectionDeclarations = CollectionDeclarations,
>(options: SyncClientOptions<Declarations>): SyncClient<RecordsOf<Declarations>> {
  // The implementation is untyped inside; the declarations only shape the public types.
  return new SyncClientImpl(options) as unknown as SyncClient<RecordsOf<Declarations>>;
}

function defaultStorage(): StorageAdapter {
  return typeof indexedDB === 'undefined' ? memoryStorage() : indexedDbStorage();
}

function asSyncError(error: unknown): SyncError {
  return isSyncError(error) ? error : new SyncError('network', String(error), { cause: error });
}

/**
 * The coordinator: it wires the environment, storage, the replica of the signed-in user (store
 * + outbox), the replicator (push/pull loops), resolvers, the status machine and the event
 * emitter, and switches replicas when the session changes. The parts live in their folders.
 */
class SyncClientImpl implements SyncClient {
  readonly #options: SyncClientOptions;
  /** The device's environment, whose online source is {@link Reachability}: server reachable. */
  readonly #env: SyncEnvironment;
  readonly #reachability: Reachability;
  readonly #authPause: AuthPause;
  readonly #limits = new WriteLimits();
  readonly #storage: StorageAdapter;
  readonly #transport: SyncTransport;
  readonly #emitter = new Emitter<SyncEvents>();
  readonly #guard: CollectionGuard;
  readonly #notifier: Notifier;
  readonly #status: StatusMachine;
  readonly #newId: IdGenerator;
  readonly #defaultResolver: ConflictResolver;
  #ctx: EngineContext | null = null;
  #clientId: string | null = null;
  #retryer: Retryer | null = null;
  #replica: Replica = new Replica(LOCAL_NAMESPACE, LOCAL_SCOPE);
  #localReplica: Replica | null = null;
  #replicator: Replicator | null = null;
  #session: AuthSession | null = null;
  #starting: Promise<void> | null = null;
  #switching: Promise<void> = Promise.resolve();
  #cleanups: Array<() => void> = [];
  readonly #clockHistory: DeviceClockHistory;
  #deadLetterList: readonly DeadLetter[] = Object.freeze([]);
  #conflictList: readonly ParkedConflict[] = Object.freeze([]);
  #invalidList: readonly InvalidRecord[] = Object.freeze([]);
  /** Session targeting, when the app opted in (`options.targeting`). */
  readonly #targeting: TargetingServices | null;
  /** The multi-tab link (`null` without the `tabs` option). */
  readonly #tabs: TabLink | null;
  /** A follower's copy of the leader's status. */
  #mirroredStatus: SyncStatus | null = null;

  constructor(options: SyncClientOptions) {
    checkClientOptions(options);
    this.#guard = new CollectionGuard(options.collections);
    this.#options = options;
    const device = createEnvironment(options.environment);
    const transport = options.transport;
    this.#reachability = new Reachability({
      env: device,
      probe: transport.probe === undefined ? undefined : (signal) => transport.probe!(signal),
      intervalMs: options.probeIntervalMs ?? 3000,
      timeoutMs: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
    });
    this.#env = { ...device, online: this.#reachability };
    this.#authPause = new AuthPause(this.#env, () => this.#resumeReplication());
    this.#storage = options.storage ?? defaultStorage();
    this.#transport = options.transport;
    this.#clockHistory = new DeviceClockHistory(this.#storage);
    this.#newId = createUuidV7(this.#env);
    this.#defaultResolver = options.conflict ?? lww();
    const emitter = this.#emitter;
    this.#notifier = new Notifier(
      (collection, ids) => emitter.emit('change', { collection, ids }),
      () => this.#status.flush(),
      () => emitter.listenerCount('change') > 0,
    );
    // Status changes are committed in the notifier's flush, which then wakes subscribers.
    this.#status = new StatusMachine(
      (status) => emitter.emit('status', status),
      () => this.#notifier.touch(),
      () => emitter.listenerCount('status') > 0,
    );
    this.#targeting =
      options.targeting?.attach({
        options,
        env: this.#env,
        storage: this.#storage,
        transport: this.#transport,
        newId: this.#newId,
        // With several tabs, the leader's inbox hands a delivery to one tab's listeners.
        handlers: () =>
          this.#tabs?.targeting?.inbox.handlers(emitter.listeners('delivery')) ??
          emitter.listeners('delivery'),
        deliveryFailed: (error, delivery) =>
          emitter.emit('deliveryFailed', asSyncError(error), delivery),
        transfer: (progress) => emitter.emit('transfer', progress),
        userScope: () => (this.#session === null ? '' : this.#scopeFor(this.#session)),
      }) ?? null;
    this.#tabs = options.tabs === undefined ? null : this.#linkTabs(options.tabs);
  }

  /** The session targeting services, or a typed error naming the opt-in. */
  #requireTargeting(what: string): TargetingServices {
    if (this.#targeting !== null) return this.#targeting;
    throw new SyncError(
      'invalid',
      `client.${what} needs session targeting: createSyncClient({ targeting: sessionTargeting() }), with sessionTargeting from '@syncline/sync-core/targeting'`,
      { code: 'targeting_not_enabled' },
    );
  }

  #linkTabs(tabs: MultiTab): TabLink {
    const link = tabs.connect({
      env: this.#env,
      storage: this.#storage,
      replica: () => (this.#ctx === null ? null : this.#replica),
      status: () => this.#status.snapshot,
      changed: (collection, id) => this.#notifier.changed(collection, id),
      mirrored: (status) => {
        if (status !== undefined) {
          this.#mirroredStatus = status;
          this.#emitter.emit('status', status);
        }
        this.#notifier.touch();
      },
      serve: () => ({
        ctx: this.#requireCtx(),
        replica: this.#replica,
        write: (writes, txId, extraOps) => this.#write(writes, txId, extraOps),
        client: this,
      }),
      roleChanged: (leader) => this.#roleChanged(leader),
      targeting: this.#targeting,
      emitter: this.#emitter,
      sessionId: () => this.#session?.sessionId ?? null,
      newId: this.#newId,
    });
    this.#emitter.on('change', ({ collection, ids }) => link.recordsChanged(collection, ids));
    this.#emitter.on('conflict', () => link.listsChanged());
    this.#emitter.on('rejected', () => link.listsChanged());
    this.#notifier.subscribe(() => link.publish());
    return link;
  }

  // In a tab of a multi-tab app, the tab link's facades (a follower forwards to the leader).
  get assets(): AssetsApi {
    return (this.#tabs?.targeting ?? this.#requireTargeting('assets')).assets;
  }

  get sessions(): SessionsApi {
    return (this.#tabs?.targeting ?? this.#requireTargeting('sessions')).sessions;
  }

  get deliveries(): DeliveriesApi {
    return (this.#tabs?.targeting ?? this.#requireTargeting('deliveries')).deliveries;
  }

  get status(): SyncStatus {
    if (this.#tabs?.following === true && this.#mirroredStatus !== null) {
      return this.#mirroredStatus;
    }
    return this.#status.snapshot;
  }

  get tabRole(): TabRole {
    if (this.#tabs === null) return 'solo';
    return this.#tabs.elected ? 'leader' : 'follower';
  }

  get clientId(): string | null {
    return this.#clientId;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = null;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const env = this.#env;
    this.#clientId ??= await loadClientId(this.#storage, this.#newId);
    const clock = new HybridLogicalClock({
      nodeId: this.#clientId,
      now: () => env.now(),
      ...(this.#options.maxDriftMs === undefined ? {} : { maxDriftMs: this.#options.maxDriftMs }),
    });
    if (this.#ctx !== null) clock.restore(this.#ctx.clock.last);
    await this.#clockHistory.restore(clock);
    const status = this.#status;
    this.#ctx = {
      env,
      storage: this.#storage,
      clock,
      newId: this.#newId,
      notifier: this.#notifier,
      status,
      resolverFor: (collection) =>
        this.#options.collections?.[collection]?.conflict ?? this.#defaultResolver,
      emitConflict: (conflict) => {
        this.#emitter.emit('conflict', conflict);
        this.#notifier.touch();
      },
      emitRejected: (letter) => {
        this.#emitter.emit('rejected', letter);
        this.#notifier.touch();
      },
      admitServerRecord: this.#guard.hasSchemas
        ? (replica, record, ops) => {
            const invalid = admitServerRecord(this.#guard, record, ops);
            if (invalid === null) return true; // applied; the quarantine did not change
            if (invalid !== undefined && replica === this.#replica) {
              this.#emitter.emit('invalid-record', invalid);
            }
            this.#notifier.touch();
            return invalid === undefined;
          }
        : null,
      refreshCounts: (replica) => {
        if (replica === this.#replica) {
          status.counts(replica.outbox.size, replica.conflicts.size, replica.deadLetters.size);
        }
      },
    };
    this.#retryer = new Retryer({
      env,
      ...this.#options.retry,
      onRetry: (error, _wait, attempt) => {
        const failure = asSyncError(error);
        status.failed(failure);
        this.#reachability.failed(failure);
        this.#replicator?.noteFailure(failure, attempt);
      },
    });
    this.#cleanups.push(this.#reachability.start(), () => this.#authPause.cancel());
    status.connectivity(env.online.isOnline());
    this.#cleanups.push(env.online.subscribe((online) => status.connectivity(online)));
    if (this.#tabs !== null) await this.#tabs.start();
    const source = this.#transport.session;
    await this.#sessionChanged(source?.current() ?? null);
    if (source !== undefined) {
      this.#cleanups.push(source.subscribe((session) => void this.#sessionChanged(session)));
    }
  }

  async stop(): Promise<void> {
    const starting = this.#starting;
    if (starting === null) return;
    await starting.catch(() => {});
    await this.#switching;
    this.#replicator?.stop();
    this.#replicator = null;
    this.#targeting?.signedOut();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#retryer?.dispose();
    this.#tabs?.stop();
    this.#starting = null;
  }

  /**
   * A session change takes effect at once: the view switches to the new user's namespace (which
   * may still be loading), so a write made right after a sign-in goes to that user and never to
   * the previous one. Loading, claiming local data and starting replication follow, one session
   * change at a time, in order.
   */
  #sessionChanged(session: AuthSession | null): Promise<void> {
    const replica = this.#activate(session);
    this.#switching = this.#switching
      .then(() => this.#finishSwitch(session, replica))
      .catch((error: unknown) => this.#status.failed(asSyncError(error)));
    return this.#switching;
  }

  #activate(session: AuthSession | null): Replica {
    const previous = this.#session;
    this.#replicator?.stop();
    this.#replicator = null;
    this.#targeting?.signedOut();
    this.#session = session;
    let replica: Replica;
    if (session !== null && previous !== null && previous.userId === session.userId) {
      replica = this.#replica; // same user, new auth session: same data
    } else if (session !== null) {
      replica = this.#open(userNamespace(session.userId), this.#scopeFor(session));
    } else {
      replica = this.#openLocal();
    }
    this.#swap(replica);
    if (session === null) this.#status.signedOut();
    else this.#status.signedIn(session.userId);
    this.#ctx?.refreshCounts(replica);
    return replica;
  }

  #open(namespace: string, scope: string): Replica {
    const replica: Replica = openReplica(
      this.#storage,
      namespace,
      scope,
      (touched) => {
        if (replica !== this.#replica) return;
        for (const [collection, id] of touched) this.#notifier.changed(collection, id);
        this.#ctx?.refreshCounts(replica);
        this.#notifier.touch();
      },
      // The device must know the namespace before any write lands in it (see DeviceClockHistory).
      this.#clockHistory.remember(namespace),
    );
    const tabs = this.#tabs;
    if (tabs !== null) {
      replica.outbox.onTouched = (collection, id) => {
        if (replica === this.#replica) tabs.recordsChanged(collection, [id]);
      };
    }
    return replica;
  }

  #openLocal(): Replica {
    this.#localReplica ??= this.#open(LOCAL_NAMESPACE, LOCAL_SCOPE);
    return this.#localReplica;
  }

  async #finishSwitch(session: AuthSession | null, replica: Replica): Promise<void> {
    const ctx = this.#requireCtx();
    await replica.ready;
    if (this.#session !== session) return; // superseded while loading
    // Our own history is restored as is; what others wrote is merged under the drift bound.
    ctx.clock.restore(replica.lastHlc);
    if (replica.seenHlc !== '') ctx.clock.receive(replica.seenHlc);
    const tabs = this.#tabs;
    if (tabs !== null && !tabs.elected) {
      tabs.hello(replica.namespace); // a follower mirrors the leader and replicates nothing
      return;
    }
    if (session === null) {
      tabs?.leading();
      return;
    }
    this.#retryer?.clear();
    const local = this.#openLocal();
    await local.ready;
    if (local !== replica) {
      await claimLocalData(
        ctx,
        this.#options.claimLocalData ?? 'auto',
        session,
        local,
        replica,
        () => this.#session === session,
      );
    }
    if (this.#session !== session || this.#starting === null) return;
    ctx.refreshCounts(replica);
    this.#authPause.cancel();
    void this.#limits.learnFrom(this.#transport, ctx.env);
    this.#startReplicator(ctx, session, replica);
    this.#targeting?.signedIn({
      session,
      clientId: this.#clientId as string,
      retryer: this.#retryer as Retryer,
    });
    tabs?.leading();
  }

  /**
   * The election changed this tab's role after start. A new leader reloads the replica from
   * storage (the mirror may miss what the old leader wrote last, and its outbox positions must
   * follow the stored ones), swaps it in once loaded, then starts replicating; its own calls made
   * meanwhile wait in the link and are carried out after. A deposed leader stops replicating
   * and mirrors the new one.
   */
  #roleChanged(leader: boolean): void {
    const session = this.#session;
    if (this.#starting === null) return;
    this.#notifier.touch();
    this.#replicator?.stop();
    this.#replicator = null;
    this.#targeting?.signedOut();
    if (!leader) {
      this.#mirroredStatus = null;
      this.#tabs?.hello(this.#replica.namespace);
      return;
    }
    if (session === null) this.#localReplica = null;
    const replica =
      session === null
        ? this.#openLocal()
        : this.#open(userNamespace(session.userId), this.#scopeFor(session));
    this.#switching = this.#switching
      .then(async () => {
        await replica.ready;
        if (this.#session !== session || this.#tabs?.elected !== true) return;
        this.#swap(replica);
        this.#mirroredStatus = null;
        this.#ctx?.refreshCounts(replica);
        await this.#finishSwitch(session, replica);
      })
      .catch((error: unknown) => this.#status.failed(asSyncError(error)));
  }

  #startReplicator(ctx: EngineContext, session: AuthSession, replica: Replica): Replicator {
    const replicator = new Replicator({
      ctx,
      replica,
      session,
      clientId: this.#clientId as string,
      transport: this.#transport,
      retryer: this.#retryer as Retryer,
      scopes: [replica.scope],
      pushBatchSize: this.#options.pushBatchSize ?? 100,
      pullPageSize: this.#options.pullPageSize ?? 1000,
      pullIntervalMs: this.#options.pullIntervalMs ?? 30_000,
      requestTimeoutMs: this.#options.requestTimeoutMs ?? 30_000,
      onAuthPaused: () => this.#authPause.schedule(),
      onLimits: (limits) => this.#limits.learn(limits),
    });
    this.#replicator = replicator;
    replicator.start();
    return replicator;
  }

  /**
   * Builds a new replicator for the same session after an `auth` pause (the token may be good
   * again: the transport asks `getToken` on the next request). `undefined` when there is
   * nothing to resume (signed out, stopped, still switching).
   */
  #resumeReplication(): Replicator | undefined {
    const session = this.#session;
    const ctx = this.#ctx;
    if (session === null || ctx === null || this.#starting === null) return undefined;
    const current = this.#replicator;
    if (current !== null && !current.stopped) return current;
    if (current === null) return undefined; // the session switch has not finished
    return this.#startReplicator(ctx, session, this.#replica);
  }

  #scopeFor(session: AuthSession): string {
    return this.#options.scopeFor?.(session) ?? `user:${session.userId}`;
  }

  /** Makes `next` the live replica and announces every record that may look different. */
  #swap(next: Replica): void {
    const previous = this.#replica;
    if (previous === next) return;
    this.#replica = next;
    for (const replica of [previous, next]) {
      for (const collection of replica.store.collections()) {
        for (const id of replica.store.viewIds(collection)) this.#notifier.changed(collection, id);
      }
    }
    this.#notifier.touch();
  }

  #requireCtx(): EngineContext {
    if (this.#ctx === null) {
      throw new SyncError('invalid', 'Call client.start() before writing');
    }
    return this.#ctx;
  }

  /** Pushing after a swap is harmless (the new replicator finds its own outbox), so one closure serves every write. */
  readonly #afterDurable = { onDurable: () => this.#replicator?.schedulePush() };

  #write(writes: LocalWrite[], txId?: string, extraOps?: LocalWriteExtra): Promise<void> {
    const ctx = this.#requireCtx();
    if (this.#tabs?.following === true && extraOps === undefined) {
      const call: TabCall = { kind: 'write', writes, ...(txId === undefined ? {} : { txId }) };
      return this.#tabs.write(call).then(() => undefined);
    }
    if (txId === undefined && extraOps === undefined) {
      return applyLocalWrites(ctx, this.#replica, writes, this.#afterDurable);
    }
    return applyLocalWrites(ctx, this.#replica, writes, {
      ...(txId === undefined ? {} : { txId }),
      ...(extraOps === undefined ? {} : { extraOps }),
      onDurable: this.#afterDurable.onDurable,
    });
  }

  put(collection: string, id: string, data: JsonObject): Promise<void> {
    const frozen = this.#limits.check(this.#guard.put(collection, id, data));
    return this.#write([{ op: 'put', collection, id, data: frozen }]);
  }

  patch(collection: string, id: string, fields: Partial<JsonObject>): Promise<void> {
    const current = this.#replica.store.get(collection, id);
    const frozen = this.#limits.check(this.#guard.patch(collection, id, fields, current));
    return this.#write([{ op: 'patch', collection, id, data: frozen }]);
  }

  delete(collection: string, id: string): Promise<void> {
    this.#guard.target(collection, id);
    return this.#write([{ op: 'delete', collection, id }]);
  }

  transaction(build: (tx: SyncTransaction) => void): Promise<void> {
    this.#requireCtx();
    const writes = buildTransaction(this.#guard, this.#replica.store, build);
    for (const write of writes) if (write.data !== undefined) this.#limits.check(write.data);
    if (writes.length === 0) return Promise.resolve();
    return this.#write(writes, this.#newId());
  }

  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    return this.#replica.store.get(collection, id);
  }

  query(collection: string, options?: QueryOptions): readonly ViewRecord[] {
    return this.#replica.store.query(collection, options);
  }

  async syncNow(options: SyncNowOptions = {}): Promise<SyncNowResult> {
    if (this.#tabs?.following === true) {
      const { signal: _signal, ...rest } = options;
      return (await this.#tabs.call({ kind: 'syncNow', options: rest })) as SyncNowResult;
    }
    const pending = () => this.#replica.outbox.size;
    if (this.#starting === null) return { outcome: 'stopped', pending: pending() };
    await this.#switching;
    if (this.#starting === null) return { outcome: 'stopped', pending: pending() };
    if (this.#session === null) return { outcome: 'local', pending: pending() };
    if (!(await this.#reachability.checkNow())) {
      const error = this.#reachability.unreachable;
      return { outcome: 'offline', pending: pending(), ...(error === undefined ? {} : { error }) };
    }
    // After an auth pause this retries with whatever getToken returns now.
    const replicator = this.#resumeReplication();
    if (replicator === undefined) return { outcome: 'stopped', pending: pending() };
    const retryer = this.#retryer as Retryer;
    const startedBefore = retryer.attemptsStarted;
    retryer.retryNow();
    return waitForSync({
      env: this.#env,
      options,
      startedBefore,
      retryNow: () => retryer.retryNow(),
      work: replicator.syncNow(),
      watchFailures: (listener) => replicator.watchFailures(listener),
      pending,
    });
  }

  recordStatus(collection: string, id: string): RecordSyncState {
    return recordSyncState(this.#replica, collection, id);
  }

  deadLetters(): readonly DeadLetter[] {
    this.#deadLetterList = stableList(this.#deadLetterList, [
      ...this.#replica.deadLetters.values(),
    ]);
    return this.#deadLetterList;
  }

  invalidRecords(): readonly InvalidRecord[] {
    this.#invalidList = stableList(this.#invalidList, [...this.#replica.invalidRecords.values()]);
    return this.#invalidList;
  }

  conflicts(): readonly ParkedConflict[] {
    const parked = [...this.#replica.conflicts.values()].map((stored) => stored.conflict);
    this.#conflictList = stableList(this.#conflictList, parked);
    return this.#conflictList;
  }

  retryDeadLetter(mutationId: string): Promise<void> {
    if (this.#tabs?.following === true)
      return this.#follow({ kind: 'retryDeadLetter', mutationId });
    return retryDeadLetter(this.#requireCtx(), this.#replica, mutationId, this.#writeWithOps);
  }

  discardDeadLetter(mutationId: string): Promise<void> {
    if (this.#tabs?.following === true) {
      return this.#follow({ kind: 'discardDeadLetter', mutationId });
    }
    return discardDeadLetter(this.#requireCtx(), this.#replica, mutationId);
  }

  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void> {
    if (this.#tabs?.following === true) {
      return this.#follow({ kind: 'resolveConflict', mutationId, decision });
    }
    const ctx = this.#requireCtx();
    return resolveParkedConflict(ctx, this.#replica, mutationId, decision, this.#writeWithOps);
  }

  /** A follower's call to the leader, for the calls that answer nothing. */
  #follow(call: TabCall): Promise<void> {
    return (this.#tabs as TabLink).call(call).then(() => undefined);
  }

  readonly #writeWithOps: WriteWithOps = (writes, extraOps) =>
    this.#write(writes, undefined, extraOps);

  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.on(event, listener as never);
    this.#listenersChanged(event);
    return this;
  }

  once<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.once(event, listener as never);
    this.#listenersChanged(event);
    return this;
  }

  off<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.off(event, listener as never);
    if (event === 'delivery') this.#tabs?.listenersChanged();
    return this;
  }

  /** A new delivery handler is offered the deliveries waiting for this session (in any tab). */
  #listenersChanged(event: keyof SyncEvents): void {
    if (event !== 'delivery') return;
    this.#targeting?.handlersChanged();
    this.#tabs?.listenersChanged();
  }

  subscribe(listener: () => void): () => void {
    return this.#notifier.subscribe(listener);
  }
}

type LocalWriteExtra = NonNullable<Parameters<typeof applyLocalWrites>[3]>['extraOps'];
