/**
 * Deliberately broken transports, each breaking one rule of the transport contract the way a
 * real adapter could, to prove the conformance suite catches it with the right message. Each is
 * a thin wrapper over a sound transport of the in-memory server.
 */
import { SyncError } from '../../src/errors/sync-error.js';
import type { Mutation, PushRequest, PushResponse, SyncRecord } from '../../src/protocol/types.js';
import type { MemoryServer } from '../../src/testing/memory-server.js';
import type { SyncTransport } from '../../src/transport/types.js';

/** A broken transport: how it is built, and the rule the suite must report for it. */
export interface BrokenTransport {
  /** What the bug is. */
  name: string;
  /** The rule id the suite must fail with. */
  rule: string;
  /** Words the failure message must contain (it says what was wrong). */
  messageIncludes: string;
  /** Wraps a sound transport of `server` into the broken one. */
  wrap(sound: SyncTransport, server: MemoryServer): SyncTransport;
}

function withPush(
  sound: SyncTransport,
  push: (request: PushRequest) => Promise<PushResponse>,
): SyncTransport {
  return { pull: (r, s) => sound.pull(r, s), push: (r) => push(r) };
}

let fresh = 0;
const newId = (): string => `0190a000-0000-7000-8000-${String(++fresh).padStart(12, '0')}`;

function currentRecord(server: MemoryServer, m: Mutation): SyncRecord | undefined {
  return server.records(m.scope).find((r) => r.collection === m.collection && r.id === m.recordId);
}

/** The fixtures; every one must fail its rule. */
export const BROKEN_TRANSPORTS: readonly BrokenTransport[] = [
  {
    name: 'forgets mutation ids (no idempotency: every push gets new ids)',
    rule: 'push.idempotent',
    messageIncludes: 'stored outcome',
    wrap: (sound) =>
      withPush(sound, async (request) => {
        const ids = request.mutations.map((m) => m.id);
        const response = await sound.push({
          ...request,
          mutations: request.mutations.map((m) => ({ ...m, id: newId() })),
        });
        return { results: response.results.map((r, i) => ({ ...r, id: ids[i] as string })) };
      }),
  },
  {
    name: 'overwrites without a revision check (last write wins on the server)',
    rule: 'push.revision-check',
    messageIncludes: 'must be answered with a conflict',
    wrap: (sound, server) =>
      withPush(sound, (request) =>
        sound.push({
          ...request,
          mutations: request.mutations.map((m) => ({
            ...m,
            baseRevision: currentRecord(server, m)?.revision ?? 0,
          })),
        }),
      ),
  },
  {
    name: 'resurrects deleted records (a write on a tombstone is taken as new)',
    rule: 'push.no-resurrection',
    messageIncludes: 'must be a conflict',
    wrap: (sound, server) =>
      withPush(sound, (request) =>
        sound.push({
          ...request,
          mutations: request.mutations.map((m) => {
            const current = currentRecord(server, m);
            return current?.deleted ? { ...m, baseRevision: current.revision } : m;
          }),
        }),
      ),
  },
  {
    name: 'loses the last change of every full page',
    rule: 'pull.paging',
    messageIncludes: 'never arrived',
    wrap: (sound) => ({
      push: (r) => sound.push(r),
      pull: async (request) => {
        const page = await sound.pull(request);
        return page.hasMore ? { ...page, changes: page.changes.slice(0, -1) } : page;
      },
    }),
  },
  {
    name: 'rejects with plain Errors instead of SyncErrors',
    rule: 'errors.auth',
    messageIncludes: 'must reject with a SyncError',
    wrap: (sound) => {
      const plain = async <T>(call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (error) {
          throw new Error(`HTTP error: ${(error as Error).message}`);
        }
      };
      return { push: (r) => plain(() => sound.push(r)), pull: (r) => plain(() => sound.pull(r)) };
    },
  },
  {
    name: 'answers results in the wrong order',
    rule: 'push.results-in-order',
    messageIncludes: 'request order',
    wrap: (sound) =>
      withPush(sound, async (request) => {
        const response = await sound.push(request);
        return { results: [...response.results].reverse() };
      }),
  },
  {
    name: 'drops tombstones from pulls (a delete never reaches other devices)',
    rule: 'push.delete-tombstone',
    messageIncludes: 'must return the tombstone',
    wrap: (sound) => ({
      push: (r) => sound.push(r),
      pull: async (request) => {
        const page = await sound.pull(request);
        return { ...page, changes: page.changes.filter((c) => !c.deleted) };
      },
    }),
  },
  {
    name: 'reports "slow down" as a server error without Retry-After',
    rule: 'errors.rate-limit',
    messageIncludes: 'kind rate-limited',
    wrap: (sound) => {
      const hide = async <T>(call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (error) {
          throw new SyncError('server', 'request failed', { cause: error, status: 500 });
        }
      };
      return { push: (r) => hide(() => sound.push(r)), pull: (r) => hide(() => sound.pull(r)) };
    },
  },
];
