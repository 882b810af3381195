/**
 * Helpers for the client's integration tests (not exported from the package).
 */
import { type ManualEnvironment, manualEnvironment } from '../env/manual-environment.js';
import { SyncError } from '../errors/sync-error.js';
import type { StorageAdapter, StorageWrite } from '../storage/types.js';
import type { SyncTransport } from '../transport/types.js';

/** A storage wrapper that can fail, hold or "crash" (silently never apply) writes. */
export interface ControlledStorage extends StorageAdapter {
  /** Every write batch attempted, in order, with its namespace. */
  readonly writes: Array<{ namespace: string; ops: readonly StorageWrite[] }>;
  /** From now on, writes never resolve and are never applied (the process died). */
  crash(): void;
  /** The next write rejects with `error` (default: a `storage` error) and applies nothing. */
  failNext(error?: unknown): void;
  /** Writes are held (pending, not applied) until `release()`. */
  hold(): void;
  /** Applies held writes in order. */
  release(): Promise<void>;
  /** Crash as soon as a write matching `predicate` is attempted (it is not applied). */
  crashOn(predicate: (namespace: string, ops: readonly StorageWrite[]) => boolean): void;
}

/** Wraps `inner` (normally a `memoryStorage()` shared with a "restarted" client). */
export function controlledStorage(inner: StorageAdapter): ControlledStorage {
  let crashed = false;
  let failNext: { error: unknown } | undefined;
  let holding = false;
  let crashPredicate: ((namespace: string, ops: readonly StorageWrite[]) => boolean) | undefined;
  const held: Array<() => Promise<void>> = [];
  const writes: ControlledStorage['writes'] = [];
  return {
    writes,
    get: (namespace, key) => inner.get(namespace, key),
    list: (namespace, prefix) => inner.list(namespace, prefix),
    clear: (namespace) => inner.clear(namespace),
    write(namespace, ops) {
      writes.push({ namespace, ops });
      if (crashPredicate?.(namespace, ops) === true) crashed = true;
      if (crashed) return new Promise<void>(() => {});
      if (failNext !== undefined) {
        const { error } = failNext;
        failNext = undefined;
        return Promise.reject(error);
      }
      if (holding) {
        return new Promise<void>((resolve, reject) => {
          held.push(() => inner.write(namespace, ops).then(resolve, reject));
        });
      }
      return inner.write(namespace, ops);
    },
    crash() {
      crashed = true;
    },
    failNext(error = new SyncError('storage', 'disk full')) {
      failNext = { error };
    },
    hold() {
      holding = true;
    },
    async release() {
      holding = false;
      for (const run of held.splice(0)) {
        if (!crashed) await run();
      }
    },
    crashOn(predicate) {
      crashPredicate = predicate;
    },
  };
}

const environments = new Set<ManualEnvironment>();

/** A manual environment that {@link settle} also runs the due timers of. */
export function testEnvironment(options: { seed: number; startMs?: number }): ManualEnvironment {
  const env = manualEnvironment(options);
  environments.add(env);
  return env;
}

/**
 * Lets every pending microtask, zero-delay macrotask (the memory server's deliveries) and
 * zero-delay timer of the test environments (the client's push trigger) run. Virtual time does
 * not move.
 */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const env of environments) await env.advance(0);
  }
}

/**
 * `inner`'s push, pull and session (no pokes), with `push` and/or `pull` replaced: a transport
 * whose answers a test decides.
 */
export function replacedTransport(
  inner: SyncTransport,
  replace: Partial<Pick<SyncTransport, 'push' | 'pull'>>,
): SyncTransport {
  return {
    ...(inner.session === undefined ? {} : { session: inner.session }),
    ...(inner.revisions === undefined ? {} : { revisions: inner.revisions }),
    push: replace.push ?? ((req, signal) => inner.push(req, signal)),
    pull: replace.pull ?? ((req, signal) => inner.pull(req, signal)),
  };
}
