import { describe, expect, it } from 'vitest';
import { isSyncError } from '../../src/errors/sync-error.js';
import {
  ConformanceFailure,
  type ConformanceSubject,
  createMemoryServer,
  describeTransportConformance,
  type MemoryServer,
  transportConformanceCases,
  withFaults,
} from '../../src/testing/index.js';
import type { SyncTransport } from '../../src/transport/types.js';
import { BROKEN_TRANSPORTS } from './broken-transports.js';

function memorySubject(
  server: MemoryServer,
  wrap: (sound: SyncTransport) => SyncTransport = (t) => t,
): ConformanceSubject {
  return {
    name: 'memory server',
    connect: (userId) => wrap(server.connect({ userId })),
    connectUnauthorized: () => wrap(server.connect()),
    // The in-memory server has no rate limiter: the fault wrapper answers as one would.
    connectRateLimited: (userId) =>
      wrap(
        withFaults(server.connect({ userId }), {
          rateLimit: { probability: 1, retryAfterMs: 7_000 },
        }),
      ),
  };
}

async function failuresOf(subject: ConformanceSubject): Promise<Map<string, ConformanceFailure>> {
  const failures = new Map<string, ConformanceFailure>();
  for (const testCase of transportConformanceCases(subject)) {
    if (testCase.skipReason !== undefined) continue;
    try {
      await testCase.run();
    } catch (error) {
      if (!(error instanceof ConformanceFailure)) throw error;
      failures.set(testCase.id, error);
    }
  }
  return failures;
}

describeTransportConformance({ describe, it }, memorySubject(createMemoryServer()));

describe('the conformance suite', () => {
  it('runs every rule against the sound memory transport without a failure', async () => {
    const failures = await failuresOf(memorySubject(createMemoryServer()));
    expect([...failures.values()].map((f) => f.message)).toEqual([]);
  });

  it('skips a case the subject cannot run, and says why', () => {
    const server = createMemoryServer();
    const cases = transportConformanceCases({
      name: 'minimal',
      connect: (userId) => server.connect({ userId }),
      capabilities: { patch: false, transactions: false },
    });
    const skipped = Object.fromEntries(
      cases.filter((c) => c.skipReason !== undefined).map((c) => [c.id, c.skipReason]),
    );
    expect(skipped).toEqual({
      'push.patch-merges': 'the subject declares capabilities.patch: false',
      'push.transaction-atomic': 'the subject declares capabilities.transactions: false',
      'errors.auth': 'the subject has no connectUnauthorized',
      'errors.rate-limit': 'the subject has no connectRateLimited',
    });
  });

  it('fails a transport whose answers are not what it claims with a non-SyncError', async () => {
    const cases = transportConformanceCases({
      name: 'throws',
      connect: () => ({
        push: () => Promise.reject(new TypeError('fetch failed')),
        pull: () => Promise.reject(new TypeError('fetch failed')),
      }),
    });
    const first = cases[0];
    await expect(first?.run()).rejects.toThrow(
      /^\[push\.applies-new\] push rejected: TypeError: fetch failed/,
    );
    await expect(first?.run()).rejects.toSatisfy((e) => !isSyncError(e));
  });

  describe.each(BROKEN_TRANSPORTS)('a transport that $name', (broken) => {
    it(`fails rule ${broken.rule} with a message that says what is wrong`, async () => {
      const server = createMemoryServer();
      const failures = await failuresOf(
        memorySubject(server, (sound) => broken.wrap(sound, server)),
      );
      const failure = failures.get(broken.rule);
      expect(failure, `rules that failed: ${[...failures.keys()].join(', ')}`).toBeDefined();
      expect(failure?.message.startsWith(`[${broken.rule}] `)).toBe(true);
      expect(failure?.message).toContain(broken.messageIncludes);
      expect(failure?.rule).toBe(broken.rule);
    });
  });
});
