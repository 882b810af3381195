/**
 * The simulation on the Node file storage, with a crash injected at every kind of write it makes:
 * each `write` to a journal or snapshot file (torn: a random prefix of the bytes reaches the
 * file), each `sync`/`datasync`/`truncate`, and each `rename` of a compaction. The device's
 * client dies there (the interrupted call never settles) and a new client starts 1–10 virtual s
 * later on a new `fileStorage` over the same directory, which recovers from what reached the
 * disk. The crash choice is seeded; the file I/O itself is real (a run waits for each call before
 * its virtual time moves on). Small pull pages and small compaction thresholds, so pages and
 * compactions happen.
 *
 * Fencing: every file system call is made on behalf of one life of a device's client (known
 * through an `AsyncLocalStorage` set around each storage call, which follows the storage's own
 * promise chains). Once that life has ended (crashed at a storage call or at one of the
 * simulator's crash points, or handed over to the other tab), its calls never reach the disk and
 * never settle, as the I/O of a dead process cannot: without this, a crashed client's queued
 * journal appends and compactions would go on writing next to its successor's.
 *
 * No crash from the heal on: a crash is chosen only while the life can crash, and a torn write
 * asks again once its prefix is on the disk. Real time passes there, and virtual time with it
 * when the write is a compaction's (it goes on after its batch was acknowledged, unwaited for):
 * when the heal came meanwhile, the write ends as a short write instead of a crash, since a live
 * client's storage call that never settles would stall the run for good.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fileStorage } from '../../src/storage/file.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import {
  createRandom,
  SimCounters,
  type SimStorageLife,
  simulate,
} from '../../src/testing/index.js';

/** The crash plan of the running seed: the odds, the seeded choice, and what happened. */
const plan = vi.hoisted(() => ({
  random: undefined as (() => number) | undefined,
  rate: 0,
  /** The life on whose behalf the current file system call runs (set below, after the imports). */
  lives: undefined as
    | { getStore(): { signal: AbortSignal; canCrash: boolean; crash(): void } | undefined }
    | undefined,
  counts: new Map<string, number>(),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const never = () => new Promise<never>(() => {});
  const count = (kind: string) => plan.counts.set(kind, (plan.counts.get(kind) ?? 0) + 1);
  /** `true` when the calling life has ended: its I/O must not reach the disk. */
  const dead = (): boolean => {
    if (plan.lives?.getStore()?.signal.aborted !== true) return false;
    count('fenced');
    return true;
  };
  /** The calling life's crash when this call is chosen to crash, else `undefined`. */
  const crashing = (kind: string): (() => void) | undefined => {
    const life = plan.lives?.getStore();
    if (plan.random === undefined || life === undefined || !life.canCrash) return undefined;
    if (plan.random() >= plan.rate) return undefined;
    return () => {
      count(kind);
      life.crash();
    };
  };
  /**
   * `true` when a crash chosen before an `await` can no longer happen although its life goes
   * on: the heal came meanwhile (real I/O takes real time, and virtual time moves on during a
   * compaction's I/O, which goes on after its batch was acknowledged). The call must then go
   * on as if no crash had been chosen: a life that did not crash never sees a call that never
   * settles (the simulator waits for its storage calls before virtual time moves on).
   */
  const healedMeanwhile = (): boolean => {
    const life = plan.lives?.getStore();
    return life !== undefined && !life.signal.aborted && !life.canCrash;
  };
  const fenced =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      dead() ? never() : call(...args);
  const wrap = (handle: import('node:fs/promises').FileHandle) =>
    new Proxy(handle, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        // Closing a descriptor touches no data (the system closes a dead process's files).
        if (name === 'close') return value.bind(target);
        if (name === 'write') {
          return fenced(
            async (buffer: Uint8Array, offset?: number, length?: number, position?: number) => {
              const from = offset ?? 0;
              const bytes = length ?? buffer.length - from;
              const crash = crashing('write');
              if (crash === undefined) return target.write(buffer, from, bytes, position);
              // A torn write: some prefix of the bytes reached the file.
              const torn = Math.floor((plan.random as () => number)() * bytes);
              if (torn > 0) {
                const { bytesWritten } = await target.write(buffer, from, torn, position);
                // No crash after all: a short write (the storage writes the rest, as after
                // any short write).
                if (healedMeanwhile()) return { bytesWritten, buffer };
              }
              crash();
              return never();
            },
          );
        }
        if (name === 'sync' || name === 'datasync' || name === 'truncate') {
          return fenced(async (...args: unknown[]) => {
            const crash = crashing(String(name));
            if (crash === undefined)
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            crash();
            return never();
          });
        }
        return fenced(async (...args: unknown[]) =>
          (value as (...a: unknown[]) => unknown).apply(target, args),
        );
      },
    });
  const open = real.open as (...a: unknown[]) => Promise<import('node:fs/promises').FileHandle>;
  return {
    ...real,
    open: fenced(async (...args: unknown[]) => wrap(await open(...args))),
    rename: fenced(async (from: string, to: string) => {
      const crash = crashing('rename');
      if (crash === undefined) return real.rename(from, to);
      crash();
      return never();
    }),
    rm: fenced(real.rm),
    mkdir: fenced(real.mkdir as (...a: unknown[]) => Promise<unknown>),
    readdir: fenced(real.readdir as (...a: unknown[]) => Promise<unknown>),
    readFile: fenced(real.readFile as (...a: unknown[]) => Promise<unknown>),
  };
});

const lives = new AsyncLocalStorage<SimStorageLife>();
plan.lives = lives;

/** Runs every call of `storage` (and the I/O it chains to it) on behalf of `life`. */
function onBehalfOf(life: SimStorageLife, storage: StorageAdapter): StorageAdapter {
  return {
    get: (namespace, key) => lives.run(life, () => storage.get(namespace, key)),
    list: (namespace, prefix) => lives.run(life, () => storage.list(namespace, prefix)),
    write: (namespace, ops) => lives.run(life, () => storage.write(namespace, ops)),
    clear: (namespace) => lives.run(life, () => storage.clear(namespace)),
    close: () => lives.run(life, () => storage.close?.() ?? Promise.resolve()),
  };
}

const roots: string[] = [];
afterAll(async () => {
  plan.random = undefined;
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A life for a test of the fence itself: never crashed by the plan. */
function testLife(signal: AbortSignal): SimStorageLife {
  return { canCrash: false, crash: () => undefined, signal };
}

describe('the crash fence of this tier', () => {
  it('keeps an ended life off the disk: its later writes never land and never settle', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'syncline-fence-'));
    roots.push(directory);
    const ended = new AbortController();
    const old = onBehalfOf(testLife(ended.signal), fileStorage({ directory }));
    await old.write('ns', [{ type: 'set', key: 'a', value: 1 }]);
    ended.abort();
    let settled = false;
    void old.write('ns', [{ type: 'set', key: 'b', value: 2 }]).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    const next = onBehalfOf(testLife(new AbortController().signal), fileStorage({ directory }));
    expect(await next.list('ns', '')).toEqual([['a', 1]]);
  });

  it('lets a write whose crash was chosen before the heal complete when the heal came while its torn prefix was being written', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'syncline-fence-'));
    roots.push(directory);
    // Crashes are allowed for as many `canCrash` reads as `chaosLeft` says: one read chooses
    // the crash, and the heal comes while the torn prefix is on its way to the disk (real time
    // passes there, and the simulator's virtual time may move on meanwhile when the write is
    // one of a compaction that goes on after its batch was acknowledged).
    let chaosLeft = 0;
    let crashes = 0;
    const life: SimStorageLife = {
      get canCrash() {
        return chaosLeft-- > 0;
      },
      crash: () => {
        // The simulator's crash is a no-op once crashes are no longer allowed (see `SimDevice`).
        if (life.canCrash) crashes++;
      },
      signal: new AbortController().signal,
    };
    const storage = onBehalfOf(life, fileStorage({ directory }));
    await storage.write('ns', [{ type: 'set', key: 'a', value: 1 }]);
    plan.random = () => 0.5;
    plan.rate = 1;
    try {
      chaosLeft = 1;
      await storage.write('ns', [{ type: 'set', key: 'b', value: 'x'.repeat(100) }]);
    } finally {
      plan.random = undefined;
      plan.rate = 0;
    }
    expect(crashes).toBe(0);
    const next = onBehalfOf(testLife(new AbortController().signal), fileStorage({ directory }));
    expect(await next.list('ns', '')).toEqual([
      ['a', 1],
      ['b', 'x'.repeat(100)],
    ]);
  });
});

describe('simulation on the Node file storage, crashes at every write', () => {
  const total = new SimCounters();
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, async () => {
      const root = await mkdtemp(join(tmpdir(), `syncline-sim-${seed}-`));
      roots.push(root);
      plan.random = createRandom(seed ^ 0xf11e);
      plan.rate = 0.01;
      const result = await simulate({
        seed,
        ops: 150,
        clientOptions: { pullPageSize: 3 },
        storage: (deviceId, life) =>
          onBehalfOf(
            life,
            fileStorage({ directory: join(root, deviceId), compactAfterBytes: 2048 }),
          ),
      });
      plan.random = undefined;
      total.merge(result.counters);
      expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
    }, 120_000);
  }
  it('crashed the storage at its writes (anti-vacuity)', () => {
    console.log(`file storage crashes: ${JSON.stringify(Object.fromEntries(plan.counts))}`);
    expect(total.get('crash.storage-io')).toBeGreaterThan(0);
    // Renames (compactions) and syncs are crashed too, but how many of them a run makes depends
    // on real I/O timing; writes are crashed in every run.
    expect(plan.counts.get('write') ?? 0, 'write').toBeGreaterThan(0);
  });
});
