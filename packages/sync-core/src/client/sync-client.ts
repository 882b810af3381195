import { EventEmitter } from 'eventemitter3';
import { indexedDbAssetStore, memoryAssetStore } from '../assets/asset-store.js';
import type { AssetsApi } from '../assets/client-assets.js';
import { ClientAssets } from '../assets/client-assets.js';
import { HybridLogicalClock } from '../clock/hlc.js';
import { lww } from '../conflict/resolvers.js';
import type { ConflictResolver } from '../conflict/types.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import { defaultLocks } from '../deliveries/locks.js';
import { createEnvironment } from '../env/environment.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { loadClientId } from '../ids/client-id.js';
import { createUuidV7, type IdGenerator } from '../ids/uuid-v7.js';
import { TRANSFER_REQUEST_KIND } from '../protocol/sessions.js';
import type { JsonObject } from '../protocol/types.js';
import { Replicator } from '../replication/replicator.js';
import { Retryer } from '../replication/retryer.js';
import type { SessionsApi } from '../sessions/client-sessions.js';
import { SessionServices } from '../sessions/session-services.js';
import { StatusMachine } from '../status/status-machine.js';
import { indexedDbStorage } from '../storage/indexeddb.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';
import type { ConflictDecision, SyncClient, SyncTransaction } from './api.js';
import { checkClientOptions } from './check-options.js';
import { claimLocalData } from './claim.js';
import type { EngineContext } from './context.js';
import { DeviceClockHistory } from './device-clock.js';
import { applyLocalWrites, type LocalWrite } from './local-writer.js';
import { Notifier } from './notifier.js';
import { LOCAL_NAMESPACE, LOCAL_SCOPE, openReplica, Replica, userNamespace } from './replica.js';
import {
  discardDeadLetter,
  recordSyncState,
  resolveParkedConflict,
  retryDeadLetter,
  stableList,
  type WriteWithOps,
} from './settlement.js';
import type {
  DeadLetter,
  ParkedConflict,
  RecordSyncState,
  SyncClientOptions,
  SyncEnvironment,
  SyncEvents,
  SyncStatus,
} from './types.js';
import { checkTarget, freezeData } from './write-input.js';

/**
 * Creates a sync client. Call `start()` before writing.
 *
 * @throws SyncError `invalid` for a missing transport or an out-of-range numeric option
 *
 * @example
 * ```ts
 * const client = createSyncClient({
 *   transport: restTransport({ baseUrl, getToken, session }),
 *   collections: { todos: { conflict: lww() }, notes: { conflict: fieldMerge() } },
 *   claimLocalData: 'auto',
 * });
 * await client.start();
 * await client.put('todos', id, { title: 'Buy milk', done: false });
 * ```
 */
export function createSyncClient(options: SyncClientOptions): SyncClient {
  return new SyncClientImpl(options);
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
  readonly #env: SyncEnvironment;
  readonly #storage: StorageAdapter;
  readonly #transport: SyncTransport;
  readonly #emitter = new EventEmitter<SyncEvents>();
  /**
   * Whether `change` and `status` have listeners, kept up to date by `on`/`once`/`off` and after
   * each emit (a `once` listener leaves then): asked on every record change, where the emitter's
   * own count is a dictionary lookup.
   */
  #wantsChange = false;
  #wantsStatus = false;
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
  readonly #services: SessionServices;
  readonly #assets: ClientAssets;

  constructor(options: SyncClientOptions) {
    checkClientOptions(options);
    this.#options = options;
    this.#env = createEnvironment(options.environment);
    this.#storage = options.storage ?? defaultStorage();
    this.#transport = options.transport;
    this.#clockHistory = new DeviceClockHistory(this.#storage);
    this.#newId = createUuidV7(this.#env);
    this.#defaultResolver = options.conflict ?? lww();
    this.#notifier = new Notifier(
      (collection, ids) => {
        this.#emitter.emit('change', { collection, ids });
        this.#countListeners();
      },
      () => this.#status.flush(),
      () => this.#wantsChange,
    );
    // Status changes are committed in the notifier's flush, which then wakes subscribers.
    this.#status = new StatusMachine(
      (status) => {
        this.#emitter.emit('status', status);
        this.#countListeners();
      },
      () => this.#notifier.touch(),
      () => this.#wantsStatus,
    );
    this.#services = new SessionServices({
      env: this.#env,
      storage: this.#storage,
      transport: this.#transport,
      newId: this.#newId,
      locks: options.locks ?? defaultLocks(),
      label: options.label,
      platform: options.platform,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15 * 60_000,
      pollIntervalMs: options.pullIntervalMs ?? 30_000,
      handlers: () => this.#emitter.listeners('delivery'),
      prepare: (delivery, signal) => this.#assets.prepareDelivery(delivery, signal),
      internal: new Map([
        [TRANSFER_REQUEST_KIND, (delivery, signal) => this.#assets.serveRequest(delivery, signal)],
      ]),
      onError: (error, delivery) =>
        this.#emitter.emit('deliveryFailed', asSyncError(error), delivery),
      userScope: () => (this.#session === null ? '' : this.#scopeFor(this.#session)),
      parts: [
        {
          signedIn: (context) => this.#assets.signedIn(context),
          signedOut: () => this.#assets.signedOut(),
          transferChanged: () => this.#assets.transferChanged(),
          reconnected: () => this.#assets.reconnected(),
        },
      ],
    });
    this.#assets = new ClientAssets({
      env: this.#env,
      transport: this.#transport,
      store:
        options.assetStore ??
        (typeof indexedDB === 'undefined' ? memoryAssetStore() : indexedDbAssetStore()),
      newId: this.#newId,
      deliveries: this.#services.deliveries,
      chunkBytes: options.assetChunkBytes ?? 1 << 20,
      publish: (progress) => this.#emitter.emit('transfer', progress),
    });
  }

  get assets(): AssetsApi {
    return this.#assets;
  }

  get sessions(): SessionsApi {
    return this.#services.sessions;
  }

  get deliveries(): DeliveriesApi {
    return this.#services.deliveries;
  }

  get status(): SyncStatus {
    return this.#status.snapshot;
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
      refreshCounts: (replica) => {
        if (replica === this.#replica) {
          status.counts(replica.outbox.size, replica.conflicts.size, replica.deadLetters.size);
        }
      },
    };
    this.#retryer = new Retryer({
      env,
      ...this.#options.retry,
      onRetry: (error) => status.failed(asSyncError(error)),
    });
    status.connectivity(env.online.isOnline());
    this.#cleanups.push(env.online.subscribe((online) => status.connectivity(online)));
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
    this.#services.signedOut();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#retryer?.dispose();
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
    this.#services.signedOut();
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
    if (session === null) return;
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
    const retryer = this.#retryer as Retryer;
    this.#replicator = new Replicator({
      ctx,
      replica,
      session,
      clientId: this.#clientId as string,
      transport: this.#transport,
      retryer,
      scopes: [replica.scope],
      pushBatchSize: this.#options.pushBatchSize ?? 100,
      pullPageSize: this.#options.pullPageSize ?? 1000,
      pullIntervalMs: this.#options.pullIntervalMs ?? 30_000,
      requestTimeoutMs: this.#options.requestTimeoutMs ?? 30_000,
    });
    this.#replicator.start();
    this.#services.signedIn({ session, clientId: this.#clientId as string, retryer });
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
    checkTarget(collection, id);
    return this.#write([{ op: 'put', collection, id, data: freezeData(data) }]);
  }

  patch(collection: string, id: string, fields: JsonObject): Promise<void> {
    checkTarget(collection, id);
    return this.#write([{ op: 'patch', collection, id, data: freezeData(fields) }]);
  }

  delete(collection: string, id: string): Promise<void> {
    checkTarget(collection, id);
    return this.#write([{ op: 'delete', collection, id }]);
  }

  transaction(build: (tx: SyncTransaction) => void): Promise<void> {
    this.#requireCtx();
    const writes: LocalWrite[] = [];
    build({
      put: (collection, id, data) => {
        checkTarget(collection, id);
        writes.push({ op: 'put', collection, id, data: freezeData(data) });
      },
      patch: (collection, id, fields) => {
        checkTarget(collection, id);
        writes.push({ op: 'patch', collection, id, data: freezeData(fields) });
      },
      delete: (collection, id) => {
        checkTarget(collection, id);
        writes.push({ op: 'delete', collection, id });
      },
    });
    if (writes.length === 0) return Promise.resolve();
    return this.#write(writes, this.#newId());
  }

  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    return this.#replica.store.get(collection, id);
  }

  query(collection: string, options?: QueryOptions): readonly ViewRecord[] {
    return this.#replica.store.query(collection, options);
  }

  async syncNow(): Promise<void> {
    await this.#switching;
    await this.#replicator?.syncNow();
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

  conflicts(): readonly ParkedConflict[] {
    const parked = [...this.#replica.conflicts.values()].map((stored) => stored.conflict);
    this.#conflictList = stableList(this.#conflictList, parked);
    return this.#conflictList;
  }

  retryDeadLetter(mutationId: string): Promise<void> {
    return retryDeadLetter(this.#requireCtx(), this.#replica, mutationId, this.#writeWithOps);
  }

  discardDeadLetter(mutationId: string): Promise<void> {
    return discardDeadLetter(this.#requireCtx(), this.#replica, mutationId);
  }

  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void> {
    const ctx = this.#requireCtx();
    return resolveParkedConflict(ctx, this.#replica, mutationId, decision, this.#writeWithOps);
  }

  readonly #writeWithOps: WriteWithOps = (writes, extraOps) =>
    this.#write(writes, undefined, extraOps);

  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.on(event, listener as never);
    this.#countListeners();
    return this;
  }

  once<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.once(event, listener as never);
    this.#countListeners();
    return this;
  }

  off<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    this.#emitter.off(event, listener as never);
    this.#countListeners();
    return this;
  }

  #countListeners(): void {
    this.#wantsChange = this.#emitter.listenerCount('change') > 0;
    this.#wantsStatus = this.#emitter.listenerCount('status') > 0;
    const handlers = this.#emitter.listenerCount('delivery');
    if (handlers > this.#deliveryHandlers) this.#services.handlersChanged();
    this.#deliveryHandlers = handlers;
  }

  #deliveryHandlers = 0;

  subscribe(listener: () => void): () => void {
    return this.#notifier.subscribe(listener);
  }
}

type LocalWriteExtra = NonNullable<Parameters<typeof applyLocalWrites>[3]>['extraOps'];
