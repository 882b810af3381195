import { SessionSwitch } from '../account/session-switch.js';
import type { SyncClient, SyncTransaction, TabRole } from '../api/client.js';
import type { SyncEvents } from '../api/events.js';
import type { SyncClientOptions } from '../api/options.js';
import type { AssetsApi } from '../assets/assets-api.js';
import { DeviceClockHistory } from '../clock/device-clock.js';
import type { ConflictDecision, ParkedConflict } from '../conflict/types.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import type { DeliveryListenerOptions } from '../deliveries/listeners.js';
import { type StartedEngine, startEngine } from '../engine/start-engine.js';
import type { SyncEnvironment } from '../env/types.js';
import { SyncError } from '../errors/sync-error.js';
import { createUuidV7 } from '../ids/uuid-v7.js';
import { Emitter } from '../observe/emitter.js';
import { Notifier } from '../observe/notifier.js';
import { stableReader } from '../observe/stable-reader.js';
import type { JsonObject } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import { Reachability } from '../replication/reachability.js';
import { type SyncNowOptions, type SyncNowResult, syncNow } from '../replication/sync-now.js';
import { WriteLimits } from '../replication/write-limits.js';
import { recordSyncState } from '../review/settlement.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { SessionsApi } from '../sessions/client-sessions.js';
import type { TargetingHost, TargetingServices } from '../sessions/session-targeting.js';
import { StatusMachine } from '../status/status-machine.js';
import type { RecordSyncState, SyncStatus } from '../status/types.js';
import type { StorageAdapter } from '../storage/types.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type { ClientTabs, ClientTabsParts } from '../tabs/client-tabs.js';
import { CollectionGuard } from '../write/collection-guard.js';
import { WritePath } from '../write/write-path.js';
import { checkClientOptions } from './check-options.js';

/** What session targeting adds to the client (`client.assets`, `.sessions`, `.deliveries`). */
type TargetingApis = Pick<TargetingServices, 'assets' | 'sessions' | 'deliveries'>;

/**
 * The client behind `createSyncClient`, made with the entry's defaults: the coordinator. It
 * wires the environment, storage, the replica of the signed-in user (store + outbox), the
 * replicator (push/pull loops), resolvers, the status machine and the event emitter, and
 * switches replicas when the session changes. The parts live in their folders.
 *
 * It is untyped inside: each entry casts it to the `SyncClient` of the app's declarations,
 * which only shape the public types.
 * @internal
 */
export class SyncClientImpl implements SyncClient {
  readonly #reachability: Reachability;
  readonly #emitter = new Emitter<SyncEvents>();
  /** The client's parts (options, storage, clock history...), which the engine starts from. */
  readonly #parts: ClientTabsParts & { readonly options: SyncClientOptions };
  /** Sign-in, sign-out and user change: the live replica and the session's replicator. */
  readonly #sessions: SessionSwitch;
  #engine: StartedEngine | null = null;
  #starting: Promise<void> | null = null;
  #cleanups: Array<() => void> = [];
  readonly #writes: WritePath;
  // What needs the app's attention in the live replica, each the same array until it changes.
  readonly #deadLetters = stableReader(() => [...this.#sessions.replica.deadLetters.values()]);
  readonly #invalidRecords = stableReader(() => [
    ...this.#sessions.replica.invalidRecords.values(),
  ]);
  readonly #conflicts = stableReader(() =>
    [...this.#sessions.replica.conflicts.values()].map((stored) => stored.conflict),
  );
  /** The multi-tab link (`undefined` without the `tabs` option). */
  readonly #tabs: ClientTabs | undefined;

  /**
   * @param options - the app's options
   * @param defaultStorage - the storage when the app passes none (the main and the browser
   *   entries differ there, see `create-sync-client.ts`)
   * @param environment - the device's environment, from the app's `environment` overrides
   */
  constructor(
    options: SyncClientOptions,
    defaultStorage: () => StorageAdapter,
    environment: (overrides?: Partial<SyncEnvironment>) => SyncEnvironment,
  ) {
    checkClientOptions(options);
    const guard = new CollectionGuard(options.collections);
    const device = environment(options.environment);
    this.#reachability = new Reachability({
      env: device,
      probe: options.transport.probe?.bind(options.transport),
      intervalMs: options.probeIntervalMs ?? 3000,
      timeoutMs: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
    });
    // The device's environment, whose online source is the Reachability: server reachable.
    const env = { ...device, online: this.#reachability };
    const storage = options.storage ?? defaultStorage();
    const newId = createUuidV7(env);
    const emitter = this.#emitter;
    const notifier = new Notifier(emitter);
    // Status changes are committed in the notifier's batch, which then wakes subscribers.
    const status = new StatusMachine(emitter, notifier);
    // One set of parts for session targeting, the session switch, the write path and the engine.
    const parts: ClientTabsParts & TargetingHost & { options: SyncClientOptions } = {
      options,
      env,
      transport: options.transport,
      storage,
      notifier,
      status,
      emitter,
      guard,
      newId,
      clockHistory: new DeviceClockHistory(storage),
      limits: new WriteLimits(),
      targeting: null,
      engine: () => this.#engine,
      running: () => this.#starting !== null,
      liveReplica: () => this.#sessions.replica,
      schedulePush: () => this.#sessions.replicator?.schedulePush(),
      client: this,
    };
    parts.targeting = options.targeting?.attach(parts) ?? null;
    this.#parts = parts;
    // With tabs, the session switch and the write path are the tabs' own (see ClientTabs).
    this.#tabs = options.tabs?.connect(parts);
    this.#sessions = this.#tabs?.sessions ?? new SessionSwitch(parts);
    this.#writes = this.#tabs?.writes ?? new WritePath(parts);
  }

  get assets(): AssetsApi {
    return this.#targetingApi('assets');
  }

  get sessions(): SessionsApi {
    return this.#targetingApi('sessions');
  }

  get deliveries(): DeliveriesApi {
    return this.#targetingApi('deliveries');
  }

  /**
   * Session targeting's APIs (in a tab of a multi-tab app, the tab link's facades: a follower
   * forwards to the leader), or a typed error naming the opt-in (`client.<what>`).
   */
  #targetingApi<What extends keyof TargetingApis>(what: What): TargetingApis[What] {
    const api: TargetingApis | null = this.#tabs?.link.targeting ?? this.#parts.targeting;
    if (api !== null) return api[what];
    throw new SyncError(
      'invalid',
      `client.${what} needs targeting: sessionTargeting() from '@syncline/sync-core/targeting'`,
      { code: 'targeting_not_enabled' },
    );
  }

  get status(): SyncStatus {
    const own = this.#parts.status.snapshot;
    return this.#tabs?.status(own) ?? own;
  }

  get tabRole(): TabRole {
    return this.#tabs?.role ?? 'solo';
  }

  get clientId(): string | null {
    return this.#engine?.clientId ?? null;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = null;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const status = this.#parts.status;
    const reachability = this.#reachability;
    this.#engine = await startEngine({
      ...this.#parts,
      previous: this.#engine,
      onRetry: (failure, attempt) => {
        status.failed(failure);
        reachability.failed(failure);
        this.#sessions.replicator?.noteFailure(failure, attempt);
      },
    });
    status.connectivity(reachability.isOnline());
    this.#cleanups.push(
      reachability.start(),
      reachability.subscribe((online) => status.connectivity(online)),
    );
    if (this.#tabs !== undefined) await this.#tabs.link.start();
    const source = this.#parts.transport.session;
    await this.#sessions.change(source?.current() ?? null);
    if (source !== undefined) {
      this.#cleanups.push(source.subscribe((session) => void this.#sessions.change(session)));
    }
  }

  async stop(): Promise<void> {
    if (this.#starting === null) return;
    await this.#starting.catch(() => {});
    await this.#sessions.settled();
    this.#sessions.stop();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#engine?.retryer.dispose();
    this.#tabs?.link.stop();
    this.#starting = null;
  }

  put(collection: string, id: string, data: JsonObject): Promise<void> {
    return this.#writes.apply((tx) => tx.put(collection, id, data));
  }

  patch(collection: string, id: string, fields: Partial<JsonObject>): Promise<void> {
    return this.#writes.apply((tx) => tx.patch(collection, id, fields));
  }

  delete(collection: string, id: string): Promise<void> {
    return this.#writes.apply((tx) => tx.delete(collection, id));
  }

  transaction(build: (tx: SyncTransaction) => void): Promise<void> {
    return this.#writes.apply(build, true);
  }

  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    this.#parts.guard.known(collection);
    return this.#sessions.replica.store.get(collection, id);
  }

  query(collection: string, options?: QueryOptions): readonly ViewRecord[] {
    this.#parts.guard.known(collection);
    return this.#sessions.replica.store.query(collection, options);
  }

  syncNow(options: SyncNowOptions = {}): Promise<SyncNowResult> {
    // A follower tab's is the leader's.
    return (
      this.#tabs?.syncNow(options) ??
      syncNow(
        {
          ...this.#parts, // its env and running()
          pending: () => this.#sessions.replica.outbox.size,
          settled: () => this.#sessions.settled(),
          signedIn: () => this.#sessions.session !== null,
          reachability: this.#reachability,
          resume: () => this.#sessions.resume(),
          retryer: () => (this.#engine as StartedEngine).retryer,
        },
        options,
      )
    );
  }

  recordStatus(collection: string, id: string): RecordSyncState {
    this.#parts.guard.known(collection);
    return recordSyncState(this.#sessions.replica, collection, id);
  }

  deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters();
  }

  invalidRecords(): readonly InvalidRecord[] {
    return this.#invalidRecords();
  }

  conflicts(): readonly ParkedConflict[] {
    return this.#conflicts();
  }

  retryDeadLetter(mutationId: string): Promise<void> {
    return this.#writes.retryDeadLetter(mutationId);
  }

  discardDeadLetter(mutationId: string): Promise<void> {
    return this.#writes.discardDeadLetter(mutationId);
  }

  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void> {
    return this.#writes.resolveConflict(mutationId, decision);
  }

  on<E extends keyof SyncEvents>(
    event: E,
    listener: SyncEvents[E],
    options?: DeliveryListenerOptions,
  ): this {
    // Deliveries are handed to the listeners of their kind by session targeting, not emitted.
    if (event === 'delivery') this.#parts.targeting?.listen(listener as never, options);
    else this.#emitter.on(event, listener as never);
    // A new status listener hears of a change made while nobody listened.
    if (event === 'status') this.#parts.status.listenersChanged();
    return this;
  }

  once<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    // A delivery listener is handed deliveries, not emitted to: `once` adds it as `on` does.
    if (event === 'delivery') return this.on(event, listener);
    this.#emitter.once(event, listener as never);
    // A new status listener hears of a change made while nobody listened.
    if (event === 'status') this.#parts.status.listenersChanged();
    return this;
  }

  off<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this {
    if (event === 'delivery') this.#parts.targeting?.unlisten(listener as never);
    else this.#emitter.off(event, listener as never);
    return this;
  }

  subscribe(listener: () => void): () => void {
    return this.#parts.notifier.subscribe(listener);
  }
}
