/**
 * INV-5 checks each pass from `null` on its own (a reset a crash interrupted starts over from
 * `null`), so it must still catch a client whose checkpoint goes back within a pass, or that
 * pulls from `null` with no reset. The client here is the real one; its transport rewrites one
 * pull request the way a broken client would send it.
 */
import { describe, expect, it } from 'vitest';
import type { SyncClientOptions } from '../../src/api/options.js';
import { createSyncClient } from '../../src/client/create-sync-client.js';
import type { PullRequest } from '../../src/protocol/types.js';
import { simulate } from '../../src/testing/index.js';
import type { SyncTransport } from '../../src/transport/types.js';

type Rewrite = (request: PullRequest) => PullRequest;

/**
 * Runs seed 342 with pages of 2; each client (one device's life) sends its pulls through a
 * rewrite of its own, from `rewriter()`.
 */
async function runWith(rewriter: () => Rewrite): Promise<string[]> {
  const result = await simulate({
    seed: 342,
    clientOptions: { pullPageSize: 2 },
    createClient: (options: SyncClientOptions) => {
      const inner = options.transport as SyncTransport;
      const rewrite = rewriter();
      const transport: SyncTransport = new Proxy(inner, {
        get: (target, key) =>
          key === 'pull'
            ? (request: PullRequest, signal?: AbortSignal) => target.pull(rewrite(request), signal)
            : Reflect.get(target, key, target),
      });
      return createSyncClient({ ...options, transport });
    },
  });
  return result.violations.filter((v) => v.inv === 'INV-5').map((v) => v.message);
}

describe('INV-5 (checkpoints never go back)', () => {
  it('passes the real client with pages of 2 (resets started over after crashes included)', async () => {
    expect(await runWith(() => (request) => request)).toEqual([]);
  }, 60_000);

  it('catches a checkpoint going back within a pass', async () => {
    // Once a client's pass asked for a later checkpoint than its first, the next request asks
    // from the first again (once in the whole run).
    let done = false;
    const violations = await runWith(() => {
      const pass = new Map<string, string[]>();
      return (request) => {
        if (request.checkpoint === null) {
          pass.set(request.scope, []);
          return request;
        }
        const seen = pass.get(request.scope) ?? [];
        pass.set(request.scope, [...seen, request.checkpoint]);
        // Memory-server checkpoints are versions (`23`, or `23h5` below a purge horizon).
        const first = seen[0];
        const last = seen[seen.length - 1];
        if (done || first === undefined || last === undefined) return request;
        if (Number.parseInt(first, 10) >= Number.parseInt(last, 10)) return request;
        done = true;
        return { ...request, checkpoint: first };
      };
    });
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(
      /pulled user:\S+ from checkpoint \d\S* after \d\S* without a reset/,
    );
  }, 60_000);

  it('catches a pull from null with no reset', async () => {
    // Once a client pulled a scope from a checkpoint, its next pull of it asks from null (once in
    // the whole run).
    let done = false;
    const violations = await runWith(() => {
      const asked = new Set<string>();
      return (request) => {
        if (request.checkpoint === null || done) return request;
        if (!asked.has(request.scope)) {
          asked.add(request.scope);
          return request;
        }
        done = true;
        return { ...request, checkpoint: null };
      };
    });
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(/from checkpoint null after \S+ without a reset/);
  }, 60_000);
});
