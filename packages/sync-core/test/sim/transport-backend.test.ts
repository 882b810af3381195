/**
 * `transportBackend`: the simulator against any `SyncTransport` plus a reset hook. Sound
 * transports keep every invariant; the conformance kit's deliberately broken transports, each
 * breaking one rule the options' docs state, make the simulation fail on the invariant that rule
 * protects.
 */
import { describe, expect, it } from 'vitest';
import type { SyncTransport } from '../../src/index.js';
import { SimCounters, simulate, transportBackend } from '../../src/testing/index.js';
import { createMemoryServer, type MemoryServer } from '../../src/testing/memory-server.js';
import { SIM_EPOCH_MS } from '../../src/testing/sim/device-env.js';
import { BROKEN_TRANSPORTS } from '../conformance/broken-transports.js';

/** The in-memory server reached only through its transports (`server.connect`). */
function memoryTransports(wrap?: (sound: SyncTransport, server: MemoryServer) => SyncTransport) {
  let server: MemoryServer | undefined;
  return transportBackend({
    name: 'memory transports',
    reset(scheduler) {
      server = createMemoryServer({
        environment: { now: () => SIM_EPOCH_MS + scheduler.now },
        // Rule 6: a call settles without virtual time moving, so deliveries are microtasks.
        schedule: (fn) => queueMicrotask(fn),
        limits: { maxFieldsPerRecord: 24 },
      });
    },
    connect: (session) => {
      const sound = (server as MemoryServer).connect(session);
      return wrap === undefined ? sound : wrap(sound, server as MemoryServer);
    },
    appliedMutations: async () =>
      (server as MemoryServer).appliedLog.map((e) => ({
        mutationId: e.mutationId,
        version: e.version,
        userId: e.userId,
        clientId: e.clientId,
      })),
    purgeTombstones: async () => (server as MemoryServer).purgeTombstones(),
    compareCheckpoints: (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
  });
}

describe('simulate against a transport (transportBackend)', () => {
  it('keeps every invariant through the in-memory server transports, pages of 2', async () => {
    const total = new SimCounters();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const result = await simulate({
        seed,
        ops: 200,
        backend: memoryTransports(),
        clientOptions: { pullPageSize: 2 },
      });
      expect(result.violations, `seed ${seed}`).toEqual([]);
      total.merge(result.counters);
    }
    for (const name of [
      'path.dedupe-hit',
      'path.pull-more-pages',
      'path.rejected',
      'fault.tombstone-purge',
      'fault.response-lost',
    ])
      expect(total.get(name), name).toBeGreaterThan(0);
  }, 120_000);

  it('replays a seed byte for byte', async () => {
    const a = await simulate({ seed: 9, ops: 150, backend: memoryTransports() });
    const b = await simulate({ seed: 9, ops: 150, backend: memoryTransports() });
    expect(b.digest).toBe(a.digest);
  }, 120_000);

  // Each broken rule is caught by the invariant that relies on it (over a few seeds).
  const expected: Record<string, RegExp> = {
    'push.idempotent': /INV-(1|2|4|7|12)/,
    'push.revision-check': /INV-(1|4|7)/,
    'push.no-resurrection': /INV-(4|7)/,
    'pull.paging': /INV-(4|12)/,
    'push.delete-tombstone': /INV-(4|12)/,
  };
  for (const broken of BROKEN_TRANSPORTS) {
    const pattern = expected[broken.rule];
    if (pattern === undefined) continue;
    it(`fails on a transport that ${broken.name}`, async () => {
      const found: string[] = [];
      for (const seed of [1, 2, 3, 4]) {
        const result = await simulate({
          seed,
          ops: 200,
          backend: memoryTransports(broken.wrap),
          clientOptions: { pullPageSize: 2 },
        });
        found.push(...result.violations.map((v) => `${v.inv} ${v.message}`));
        if (found.length > 0) break;
      }
      expect(found.length, 'no violation found').toBeGreaterThan(0);
      expect(found.join('\n')).toMatch(pattern);
    }, 120_000);
  }
});
