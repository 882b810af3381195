import type { SyncRecord } from '../../protocol/types.js';
import { CASE_COLLECTION, type CaseHarness } from './harness.js';
import type { RuleDefinition } from './push-cases.js';

const COLLECTION = CASE_COLLECTION;

/** Rules about pull (pages, checkpoints) and about errors (auth, isolation, rate limits). */
export const PULL_AND_ERROR_RULES: readonly RuleDefinition[] = [
  {
    id: 'pull.checkpoint',
    title:
      'A pull from a checkpoint returns only what changed after it; nothing changed means no changes and hasMore false',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      await h.apply(device, h.put(scope, 'a', { v: 1 }));
      const first = await h.pullAll(device, scope);
      const idle = await h.pull(device, scope, first.checkpoint);
      h.check(
        idle.changes.length === 0 && idle.hasMore === false,
        `a pull from the latest checkpoint with nothing new must return no changes and hasMore false, got ${idle.changes.length} changes, hasMore ${idle.hasMore}`,
      );
      const rb = await h.apply(device, h.put(scope, 'b', { v: 2 }));
      const next = await h.pullAll(device, scope, idle.checkpoint);
      const ids = next.changes.map((c) => c.id);
      h.check(
        ids.length === 1 && ids[0] === 'b' && next.changes[0]?.revision === rb,
        `a pull from the previous checkpoint must return exactly the one later change (b at revision ${rb}), got ${JSON.stringify(ids)}`,
      );
    },
  },
  {
    id: 'pull.paging',
    title:
      'Pages hold at most `limit` changes, hasMore is true until the last page, and every change arrives exactly once',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const count = 23;
      const limit = 5;
      const mutations = Array.from({ length: count }, (_, i) =>
        h.put(scope, `r${String(i).padStart(2, '0')}`, { i }),
      );
      await h.push(device, mutations, 'a push of 23 records');
      const { changes, pages } = await h.pullAll(device, scope, null, limit);
      pages.forEach((page, i) => {
        h.check(
          page.changes.length <= limit,
          `page ${i} must hold at most limit=${limit} changes, got ${page.changes.length}`,
        );
        if (i < pages.length - 1) {
          h.check(page.hasMore, `page ${i} is not the last one, so hasMore must be true`);
        }
      });
      h.check(
        pages.length >= Math.ceil(count / limit),
        `23 changes with limit ${limit} need at least 5 pages, got ${pages.length}`,
      );
      const seen = new Map<string, number>();
      for (const change of changes) seen.set(change.id, (seen.get(change.id) ?? 0) + 1);
      const missing = mutations.map((m) => m.recordId).filter((id) => !seen.has(id));
      const doubled = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      h.check(
        missing.length === 0,
        `paging must deliver every change: ${missing.length} of ${count} records never arrived (${missing.join(', ')})`,
      );
      h.check(
        doubled.length === 0,
        `paging must deliver each change once: doubled ${doubled.join(', ')}`,
      );
    },
  },
  {
    id: 'pull.record-shape',
    title:
      'Every pulled change is a complete record: scope, collection, id, data, revision, hlc, deleted',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      await h.apply(device, h.put(scope, 'a', { v: 1 }));
      const { changes } = await h.pullAll(device, scope);
      for (const change of changes) checkShape(h, change, scope);
    },
  },
  {
    id: 'scope.isolation',
    title:
      'Another user can neither read nor write a user’s scope: the pull rejects with an auth error and the push is not applied',
    async run(h: CaseHarness) {
      const owner = h.newUser();
      const intruder = h.newUser();
      const [mine, theirs] = [await h.connect(owner), await h.connect(intruder)];
      const scope = h.scopeOf(owner);
      const r1 = await h.apply(mine, h.put(scope, 'a', { secret: 1 }));
      await h.expectSyncError(
        () => theirs.pull({ scope, checkpoint: null }),
        ['auth'],
        "a pull of another user's scope",
      );
      let applied = false;
      try {
        const response = await theirs.push({
          clientId: 'intruder',
          sessionId: 'intruder',
          mutations: [h.put(scope, 'a', { secret: 'overwritten' }, r1)],
        });
        applied = response.results.some((r) => r.status === 'applied');
      } catch {
        // Rejecting the whole request is as good as rejecting the mutation.
      }
      h.check(!applied, "a push into another user's scope must not be applied");
      const record = await h.current(mine, scope, COLLECTION, 'a');
      h.check(
        record?.revision === r1,
        `the owner's record must be unchanged after another user's push, found ${JSON.stringify(record)}`,
      );
    },
  },
  {
    id: 'errors.auth',
    title:
      'Refused credentials reject push and pull with a SyncError of kind auth (the client pauses, never retries blindly)',
    needs: 'unauthorized',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const transport = await h.unauthorized(user);
      const scope = h.scopeOf(user);
      await h.expectSyncError(
        () => transport.pull({ scope, checkpoint: null }),
        ['auth'],
        'a pull with refused credentials',
      );
      await h.expectSyncError(
        () =>
          transport.push({
            clientId: 'c',
            sessionId: 's',
            mutations: [h.put(scope, 'a', {})],
          }),
        ['auth'],
        'a push with refused credentials',
      );
    },
  },
  {
    id: 'errors.rate-limit',
    title:
      'A "slow down" answer rejects with a SyncError of kind rate-limited carrying retryAfterMs',
    needs: 'rateLimited',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const transport = await h.rateLimited(user);
      const scope = h.scopeOf(user);
      let caught: unknown;
      try {
        for (let i = 0; i < 50; i++) await transport.pull({ scope, checkpoint: null });
      } catch (error) {
        caught = error;
      }
      h.check(
        caught !== undefined,
        'the rate-limited transport answered 50 pulls without ever saying "slow down"',
      );
      await h.expectSyncError(
        () => Promise.reject(caught),
        ['rate-limited'],
        'a rate-limited request',
      );
      const retryAfterMs = (caught as { retryAfterMs?: unknown }).retryAfterMs;
      h.check(
        typeof retryAfterMs === 'number' && retryAfterMs >= 0,
        `a rate-limited error must carry retryAfterMs (from Retry-After), got ${String(retryAfterMs)}`,
      );
    },
  },
];

function checkShape(h: CaseHarness, change: SyncRecord, scope: string): void {
  const text = JSON.stringify(change);
  h.check(change.scope === scope, `a pulled change must name its scope ${scope}: ${text}`);
  h.check(
    typeof change.collection === 'string' && change.collection.length > 0,
    `a pulled change must name its collection: ${text}`,
  );
  h.check(
    typeof change.id === 'string' && change.id.length > 0,
    `a pulled change must have an id: ${text}`,
  );
  h.check(
    Number.isSafeInteger(change.revision) && change.revision > 0,
    `a pulled change must have a positive integer revision: ${text}`,
  );
  h.check(
    typeof change.hlc === 'string' && change.hlc.length > 0,
    `a pulled change must have an hlc: ${text}`,
  );
  h.check(
    typeof change.deleted === 'boolean',
    `a pulled change must say whether it is deleted: ${text}`,
  );
  h.check(
    change.deleted ? change.data === null : change.data !== null && typeof change.data === 'object',
    `a tombstone has data null and a live record an object: ${text}`,
  );
}
