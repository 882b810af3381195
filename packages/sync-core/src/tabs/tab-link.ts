import type { SyncEnvironment } from '../env/types.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { SyncStatus } from '../status/types.js';
import {
  browserTabLocks,
  channelLeadership,
  type Leadership,
  type TabLockManager,
  webLockLeadership,
} from './leadership.js';
import { encodeStatus, type MirroredLists, type MirroredRecord } from './mirror.js';
import type { TabCall, TabMessage } from './tab-messages.js';
import { TabTargeting } from './tab-targeting.js';
import type { TargetingParts } from './targeting-parts.js';

/**
 * Several tabs of one app in one browser profile share one client's data: one tab (the leader)
 * replicates, the others (followers) mirror its state and send their writes to it.
 */
export interface TabsOptions {
  /**
   * Shared by the tabs of one app: the BroadcastChannel and Web Lock names derive from it. Two
   * apps on one origin with different storage need different names.
   * @default 'syncline'
   */
  name?: string;
  /**
   * The Web Locks used to elect the leader; `null` elects by BroadcastChannel heartbeats.
   * @default `navigator.locks` where it exists, else `null`
   */
  locks?: TabLockManager | null;
  /**
   * A leader that answers nothing for this long (a frozen tab) is replaced.
   * @default 4000
   */
  leaderTimeoutMs?: number;
  /**
   * Where the page's `freeze` and `resume` events (the Page Lifecycle API) are heard: a leader
   * the browser froze answers no other tab until it resumes, so the others replace it within
   * `leaderTimeoutMs`. `null` listens to none.
   * @default `document` where it exists, else `null`
   */
  pageLifecycle?: EventTarget | null;
}

/** What the link needs from the client. */
export interface TabHost {
  /** The environment (timers). */
  env: SyncEnvironment;
  /** The live replica's namespace, or `null` while none is loaded. */
  namespace(): string | null;
  /** Leader: the whole state of the live replica. */
  captureAll(): MirroredRecord[];
  /** Leader: the state of the given records. */
  captureRecords(keys: Iterable<[string, string]>): MirroredRecord[];
  /** Leader: the lists. */
  captureLists(): MirroredLists;
  /** Leader: the status snapshot. */
  status(): SyncStatus;
  /** Follower: applies the leader's state. */
  applyState(message: Extract<TabMessage, { t: 'state' }>): void;
  /** Leader: carries out a call (a follower's, or this tab's own made while it was one). */
  serve(call: Exclude<TabCall, { kind: 'api' }>, requestId: string): Promise<unknown>;
  /** Session targeting, when the client has it. */
  targeting: TargetingParts | null;
  /** Follower: shows its own writes in its view until the leader answers; returns the undo. */
  overlay(writes: Extract<TabCall, { kind: 'write' }>): () => void;
  /** Leader: deletes the markers of calls answered long ago. */
  pruneMarkers(): Promise<void>;
  /** The election made this tab leader (`true`) or follower (`false`) after `start`. */
  roleChanged(leader: boolean): void;
}

interface PendingCall {
  message: Extract<TabMessage, { t: 'call' }>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A random tab id; call ids are `<tabId>.<counter>`. */
function randomId(env: SyncEnvironment): string {
  const bytes = env.randomBytes(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One tab's end of the multi-tab engine: the election, the channel, followers' calls waiting
 * for an answer (sent again to each new leader), and the leader's state broadcasts.
 */
export class TabLink {
  /** This tab's id. */
  readonly tabId: string;
  /** Session targeting across the tabs, when the client has it. */
  readonly targeting: TabTargeting | null;
  readonly #host: TabHost;
  readonly #channel: BroadcastChannel;
  readonly #leadership: Leadership;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, PendingCall>();
  /** Leader: calls being carried out, so a call sent twice meanwhile runs once. */
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #changed = new Map<string, [string, string]>();
  #elected = false;
  #serving = false;
  #lastHeard = 0;
  #timer: unknown;
  #sentStatus: SyncStatus | null = null;
  #listsDirty = true;
  #seq = 0;
  #stopped = false;
  /** Between the page's `freeze` and `resume` events (the Page Lifecycle API). */
  #frozen = false;
  readonly #lifecycle: EventTarget | null;

  constructor(options: TabsOptions, host: TabHost) {
    this.#host = host;
    this.tabId = randomId(host.env);
    this.#timeoutMs = options.leaderTimeoutMs ?? 4000;
    const name = options.name ?? 'syncline';
    const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
    if (Channel === undefined) {
      throw new SyncError('misconfigured', 'The tabs option needs BroadcastChannel', {
        code: 'no_broadcast_channel',
      });
    }
    this.#channel = new Channel(`syncline-tabs:${name}`);
    this.#channel.addEventListener('message', this.#onMessage);
    this.#lifecycle =
      options.pageLifecycle === undefined
        ? ((globalThis as { document?: EventTarget }).document ?? null)
        : options.pageLifecycle;
    this.#lifecycle?.addEventListener('freeze', this.#onLifecycle);
    this.#lifecycle?.addEventListener('resume', this.#onLifecycle);
    const locks = options.locks === undefined ? browserTabLocks() : options.locks;
    const onChange = (leader: boolean): void => this.#roleChanged(leader);
    this.#leadership =
      locks === undefined || locks === null
        ? channelLeadership(
            new Channel(`syncline-tabs:${name}:election`),
            this.tabId,
            host.env,
            { heartbeatMs: Math.max(250, this.#timeoutMs / 4), silenceMs: this.#timeoutMs },
            onChange,
          )
        : webLockLeadership(locks, `syncline-tabs:${name}`, onChange);
    this.targeting =
      host.targeting === null
        ? null
        : new TabTargeting(host.targeting, {
            tabId: this.tabId,
            env: host.env,
            timeoutMs: this.#timeoutMs,
            serving: () => this.#serving,
            post: (message) => this.#post(message),
            call: (call) => this.call(call),
          });
  }

  /** `true` while this tab is the leader and has its own state loaded (it serves calls). */
  get serving(): boolean {
    return this.#serving;
  }

  /** `true` while the election makes this tab the leader (serving or still loading). */
  get elected(): boolean {
    return this.#elected;
  }

  /** `true` while this tab mirrors a leader (or is becoming one). */
  get following(): boolean {
    return !this.#serving;
  }

  /** Joins the election; resolves with the first role (`true`: leader, not serving yet). */
  async start(): Promise<boolean> {
    this.#elected = await this.#leadership.start();
    this.#lastHeard = this.#host.env.now();
    this.#watch();
    return this.#elected;
  }

  /** Leaves: a leader steps down (another tab takes over); waiting calls are rejected. */
  stop(): void {
    this.#stopped = true;
    this.#leadership.stop();
    this.#host.env.clearTimeout(this.#timer);
    this.#channel.removeEventListener('message', this.#onMessage);
    this.#lifecycle?.removeEventListener('freeze', this.#onLifecycle);
    this.#lifecycle?.removeEventListener('resume', this.#onLifecycle);
    this.#channel.close();
    this.targeting?.roleChanged();
    for (const call of this.#pending.values()) {
      call.reject(new SyncError('invalid', 'The client stopped before the leader tab answered'));
    }
    this.#pending.clear();
  }

  /**
   * The leader loaded its state: it serves calls from now on, tells the followers (who send
   * their waiting calls again and ask for the state) and carries out this tab's own calls.
   */
  leading(): void {
    if (!this.#elected || this.#serving || this.#stopped) return;
    this.#serving = true;
    this.targeting?.inbox.leading();
    void this.#host.pruneMarkers().catch(() => {}); // old markers only: harmless if it fails
    this.#sentStatus = null;
    this.#listsDirty = true;
    this.#post({ t: 'leader', from: this.tabId });
    for (const [id, call] of [...this.#pending]) {
      this.#pending.delete(id);
      this.#run(call.message.call, id).then(call.resolve, call.reject);
    }
  }

  /** A follower's replica finished loading `namespace`: it asks the leader for the state. */
  hello(namespace: string): void {
    if (this.#serving) return;
    this.#post({ t: 'hello', from: this.tabId, ns: namespace });
    this.targeting?.inbox.announce();
  }

  /** Sends a call to the leader; settles with its answer, whichever tab leads by then. */
  call(call: TabCall): Promise<unknown> {
    const id = `${this.tabId}.${++this.#seq}`;
    const message: Extract<TabMessage, { t: 'call' }> = {
      t: 'call',
      from: this.tabId,
      id,
      ns: this.#host.namespace() ?? '',
      call,
    };
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { message, resolve, reject });
      if (this.#serving) this.leading();
      else this.#post(message);
    });
  }

  /**
   * A follower's write: in its view at once (an overlay of the mirror), sent to the leader, and
   * taken out of the overlay when the leader answers (its state broadcast carries it by then).
   */
  write(call: Extract<TabCall, { kind: 'write' }>): Promise<unknown> {
    const undo = this.#host.overlay(call);
    return this.call(call).finally(undo);
  }

  /** Leader: records whose view changed (sent with the next {@link publish}). */
  recordsChanged(collection: string, ids: readonly string[]): void {
    if (!this.#serving) return;
    for (const id of ids) this.#changed.set(`${collection}\u0000${id}`, [collection, id]);
  }

  /** Leader: the lists (conflicts, dead letters, quarantine) changed. */
  listsChanged(): void {
    this.#listsDirty = true;
  }

  /** Leader: broadcasts what changed since the last call (after each notifier batch). */
  publish(): void {
    const ns = this.#host.namespace();
    if (!this.#serving || ns === null) return;
    const status = this.#host.status();
    const statusChanged = status !== this.#sentStatus;
    if (this.#changed.size === 0 && !statusChanged && !this.#listsDirty) return;
    const records = this.#host.captureRecords(this.#changed.values());
    this.#changed.clear();
    const message: TabMessage = { t: 'state', from: this.tabId, ns, full: false, records };
    if (this.#listsDirty) message.lists = this.#host.captureLists();
    if (statusChanged) message.status = encodeStatus(status);
    this.#listsDirty = false;
    this.#sentStatus = status;
    this.#post(message);
  }

  #run(call: TabCall, id: string): Promise<unknown> {
    const running = this.#running.get(id);
    if (running !== undefined) return running;
    const serve =
      call.kind !== 'api'
        ? this.#host.serve(call, id)
        : (this.targeting?.serve(call) ??
          Promise.reject(new SyncError('invalid', 'The leader tab has no session targeting')));
    const run = serve.finally(() => this.#running.delete(id));
    this.#running.set(id, run);
    return run;
  }

  #post(message: TabMessage): void {
    if (!this.#stopped) this.#channel.postMessage(message);
  }

  #roleChanged(leader: boolean): void {
    if (this.#stopped) return;
    this.#elected = leader;
    this.targeting?.roleChanged();
    if (!leader) {
      this.#serving = false;
      this.#lastHeard = this.#host.env.now();
    }
    this.#host.roleChanged(leader);
  }

  /** Followers ping; a leader silent for the timeout is replaced. */
  #watch(): void {
    const env = this.#host.env;
    const period = Math.max(100, this.#timeoutMs / 4);
    const tick = (): void => {
      if (this.#stopped) return;
      if (!this.#elected) {
        if (env.now() - this.#lastHeard >= this.#timeoutMs) {
          this.#lastHeard = env.now();
          this.#leadership.takeOver();
        } else {
          this.#post({ t: 'ping', from: this.tabId });
        }
      } else if (this.#serving) {
        this.targeting?.inbox.tick();
      }
      this.#timer = env.setTimeout(tick, period);
    };
    this.#timer = env.setTimeout(tick, period);
  }

  readonly #onLifecycle = (event: Event): void => {
    this.#frozen = event.type === 'freeze';
  };

  readonly #onMessage = (event: MessageEvent): void => {
    const message = event.data as TabMessage;
    if (this.#stopped || message === null || typeof message !== 'object') return;
    if (message.from === this.tabId) return;
    // A page the browser froze still runs its channel handlers (Chromium), but nothing else: a
    // frozen leader answering here would look alive to pings, and a call it took would open a
    // storage transaction it cannot finish while frozen, which holds IndexedDB for every tab
    // until it thaws. So it answers nothing from its `freeze` event to its `resume`.
    if (this.#serving) {
      if (this.#frozen) return;
      this.#lead(message);
    } else this.#follow(message);
    if (message.t === 'deliver' || message.t === 'delivered' || message.t === 'listening') {
      this.targeting?.onDelivery(message);
    }
  };

  #lead(message: TabMessage): void {
    this.targeting?.inbox.heard(message.from);
    switch (message.t) {
      case 'ping':
        this.#post({ t: 'pong', from: this.tabId });
        return;
      case 'hello': {
        const ns = this.#host.namespace();
        if (ns === null || ns !== message.ns) return;
        this.#post({
          t: 'state',
          from: this.tabId,
          ns,
          full: true,
          records: this.#host.captureAll(),
          lists: this.#host.captureLists(),
          status: encodeStatus(this.#host.status()),
        });
        this.targeting?.publishAll();
        return;
      }
      case 'call':
        if (message.ns !== this.#host.namespace()) return; // another user's tab: not ours
        this.#run(message.call, message.id).then(
          (value) =>
            this.#post({ t: 'reply', from: this.tabId, to: message.from, id: message.id, value }),
          (error: unknown) =>
            this.#post({
              t: 'reply',
              from: this.tabId,
              to: message.from,
              id: message.id,
              error: isSyncError(error)
                ? {
                    kind: error.kind,
                    message: error.message,
                    ...(error.code === undefined ? {} : { code: error.code }),
                  }
                : { kind: 'storage', message: String(error) },
            }),
        );
        return;
      default:
        return;
    }
  }

  #follow(message: TabMessage): void {
    // Only the leader's messages prove it alive (followers ping each other too).
    if (message.t !== 'ping' && message.t !== 'hello' && message.t !== 'call') {
      this.#lastHeard = this.#host.env.now();
    }
    switch (message.t) {
      case 'leader': {
        for (const call of this.#pending.values()) this.#post(call.message);
        this.targeting?.inbox.announce();
        const ns = this.#host.namespace();
        if (ns !== null) this.hello(ns);
        return;
      }
      case 'state':
        if (message.ns === this.#host.namespace()) this.#host.applyState(message);
        return;
      case 'targeting':
        this.targeting?.mirror(message);
        return;
      case 'reply': {
        if (message.to !== this.tabId) return;
        const call = this.#pending.get(message.id);
        if (call === undefined) return;
        this.#pending.delete(message.id);
        if (message.error === undefined) call.resolve(message.value);
        else {
          const { kind, message: text, code } = message.error;
          call.reject(new SyncError(kind, text, code === undefined ? {} : { code }));
        }
        return;
      }
      default:
        return;
    }
  }
}
