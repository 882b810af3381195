import type { SyncEnvironment } from '../env/types.js';

/**
 * The part of the Web Locks API (`navigator.locks`) that tab leadership uses: a lock held for
 * the leader's lifetime, `ifAvailable` to learn the first role at once, `steal` to depose a
 * frozen leader.
 */
export interface TabLockManager {
  /** Requests the lock `name`; `callback` gets `null` when `ifAvailable` found it taken. */
  request(
    name: string,
    options: { ifAvailable?: boolean; steal?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
}

/** One tab's part in electing the leader of its browser profile. */
export interface Leadership {
  /** Starts campaigning; resolves with the first role (`true`: this tab leads). */
  start(): Promise<boolean>;
  /** The leader stopped answering: this tab takes over at once. */
  takeOver(): void;
  /** Leaves the election (a leader steps down). */
  stop(): void;
}

/** The browser's Web Locks, or `undefined` where they are missing (or `null`, as in happy-dom). */
export function browserTabLocks(): TabLockManager | undefined {
  const locks = (globalThis as { navigator?: { locks?: TabLockManager | null } }).navigator?.locks;
  return locks !== undefined && locks !== null && typeof locks.request === 'function'
    ? locks
    : undefined;
}

/**
 * Leadership by one Web Lock per app: the browser grants it to one tab, releases a closed or
 * crashed tab's lock and hands it to the next tab waiting. A frozen leader keeps its lock, so a
 * follower whose pings go unanswered steals it ({@link Leadership.takeOver}); the deposed tab's
 * request then rejects and it becomes a follower, waiting in line again.
 */
export function webLockLeadership(
  locks: TabLockManager,
  name: string,
  onChange: (leader: boolean) => void,
): Leadership {
  let stopped = false;
  let generation = 0;
  let release: (() => void) | null = null;
  let waiting: AbortController | null = null;
  const hold = (lock: unknown, mine: number): Promise<unknown> => {
    if (lock === null || stopped || mine !== generation) return Promise.resolve();
    return new Promise<void>((resolve) => {
      release = resolve;
      onChange(true);
    });
  };
  const lost = (mine: number) => (): void => {
    if (stopped || mine !== generation) return; // aborted by us (takeOver, stop)
    release = null;
    onChange(false);
    wait();
  };
  const wait = (): void => {
    const mine = ++generation;
    waiting = new AbortController();
    locks
      .request(name, { signal: waiting.signal }, (lock) => hold(lock, mine))
      .then(lost(mine), lost(mine));
  };
  return {
    start() {
      const mine = ++generation;
      return new Promise<boolean>((resolve) => {
        locks
          .request(name, { ifAvailable: true }, (lock) => {
            resolve(lock !== null);
            return hold(lock, mine);
          })
          .then(() => {
            if (release === null && !stopped && mine === generation) wait(); // taken: queue
          }, lost(mine));
      });
    },
    takeOver() {
      if (stopped || release !== null) return;
      const mine = ++generation;
      waiting?.abort();
      locks.request(name, { steal: true }, (lock) => hold(lock, mine)).then(lost(mine), lost(mine));
    },
    stop() {
      stopped = true;
      waiting?.abort();
      release?.();
      release = null;
    },
  };
}

/** Timing of {@link channelLeadership}. */
export interface ChannelLeadershipTiming {
  /** How often the leader says it is alive. */
  heartbeatMs: number;
  /** Silence after which a follower takes over. */
  silenceMs: number;
}

interface Heartbeat {
  heartbeat: string;
}

/**
 * Leadership where Web Locks are missing: the leader broadcasts a heartbeat; a tab that hears
 * none for `silenceMs` takes over; two leaders that hear each other keep the smaller tab id.
 * Two tabs may both lead for up to one heartbeat; a mutation both push is applied once, since
 * the server keeps mutation ids (DESIGN §3.2), and forwarded writes carry their request id.
 */
export function channelLeadership(
  channel: BroadcastChannel,
  tabId: string,
  env: Pick<SyncEnvironment, 'now' | 'setTimeout' | 'clearTimeout'>,
  timing: ChannelLeadershipTiming,
  onChange: (leader: boolean) => void,
): Leadership {
  let leader = false;
  let stopped = false;
  let lastHeard = env.now();
  let timer: unknown;
  const become = (next: boolean): void => {
    if (next === leader) return;
    leader = next;
    onChange(next);
    if (next) channel.postMessage({ heartbeat: tabId } satisfies Heartbeat);
  };
  const tick = (): void => {
    if (stopped) return;
    if (leader) channel.postMessage({ heartbeat: tabId } satisfies Heartbeat);
    else if (env.now() - lastHeard >= timing.silenceMs) become(true);
    timer = env.setTimeout(tick, timing.heartbeatMs);
  };
  const onMessage = (event: MessageEvent): void => {
    const data = event.data as Partial<Heartbeat> | null;
    if (typeof data?.heartbeat !== 'string' || data.heartbeat === tabId) return;
    lastHeard = env.now();
    if (leader && data.heartbeat < tabId) become(false);
  };
  channel.addEventListener('message', onMessage);
  return {
    start() {
      lastHeard = env.now();
      return new Promise<boolean>((resolve) => {
        env.setTimeout(() => {
          if (!stopped && env.now() - lastHeard >= timing.heartbeatMs * 1.5) become(true);
          resolve(leader);
          tick();
        }, timing.heartbeatMs * 1.5);
      });
    },
    takeOver() {
      if (!stopped) become(true);
    },
    stop() {
      stopped = true;
      env.clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      leader = false;
    },
  };
}
