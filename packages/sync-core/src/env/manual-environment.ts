import { bytesFromRandom } from './environment.js';
import type { OnlineSource, SyncEnvironment } from './types.js';

/**
 * A {@link SyncEnvironment} driven by hand: virtual time that moves only on `advance`, timers
 * that fire in due order, a seeded random source and a switchable online flag. Used by
 * syncline's own unit tests (and usable by apps' tests) where fake timers are needed.
 */
export interface ManualEnvironment extends SyncEnvironment {
  /** Moves virtual time forward by `ms`, firing due timers in order; awaits microtasks between them. */
  advance(ms: number): Promise<void>;
  /** Switches the online flag and notifies listeners on a change. */
  setOnline(online: boolean): void;
  /** Number of timers scheduled and not yet fired or cleared. */
  pendingTimers(): number;
  /**
   * Moves the wall clock (`now()`) by `deltaMs` without moving the timers, like a device whose
   * clock is corrected: timers still fire after their full durations.
   */
  jumpClock(deltaMs: number): void;
}

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/** Lets promise continuations run (several rounds, since awaits chain). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * Creates a {@link ManualEnvironment} starting at `startMs` with a deterministic random source
 * (mulberry32 seeded with `seed`).
 *
 * @param options - start time and seed
 */
export function manualEnvironment(
  options: { startMs?: number; seed?: number } = {},
): ManualEnvironment {
  // `time` drives the timers; `skew` is added to what `now()` reports.
  let now = options.startMs ?? 1_700_000_000_000;
  let skew = 0;
  let seed = options.seed ?? 1;
  let online = true;
  let nextId = 1;
  const timers = new Map<number, Timer>();
  const listeners = new Set<(online: boolean) => void>();
  const onlineSource: OnlineSource = {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    now: () => now + skew,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    random,
    randomBytes: bytesFromRandom(random),
    online: onlineSource,
    async advance(ms) {
      const end = now + ms;
      await flushMicrotasks();
      for (;;) {
        let due: Timer | undefined;
        for (const timer of timers.values()) {
          if (timer.at <= end && (due === undefined || timer.at < due.at)) due = timer;
        }
        if (due === undefined) break;
        timers.delete(due.id);
        now = Math.max(now, due.at);
        due.callback();
        await flushMicrotasks();
      }
      now = end;
      await flushMicrotasks();
    },
    setOnline(value) {
      if (value === online) return;
      online = value;
      for (const listener of [...listeners]) listener(value);
    },
    pendingTimers: () => timers.size,
    jumpClock(deltaMs) {
      skew += deltaMs;
    },
  };
}
