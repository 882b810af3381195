import { isHlc } from '../../clock/hlc.js';
import type { ConflictResult, MutationResult } from '../../protocol/types.js';
import { jsonEqual } from '../../store/json-equal.js';
import { CASE_COLLECTION, type CaseHarness, canonical } from './harness.js';

/** A rule of the contract: its id, its sentence, and the check. */
export interface RuleDefinition {
  /** Stable id, e.g. `push.idempotent`. */
  id: string;
  /** The rule in one sentence. */
  title: string;
  /** Which capability it needs, if any. */
  needs?: 'patch' | 'transactions' | 'unauthorized' | 'rateLimited';
  /** The check. */
  run(h: CaseHarness): Promise<void>;
}

const COLLECTION = CASE_COLLECTION;

/** Rules about push: applying, revision checks, idempotency, tombstones, order, atomicity. */
export const PUSH_RULES: readonly RuleDefinition[] = [
  {
    id: 'push.applies-new',
    title:
      'A put of a new record (baseRevision 0) is applied, with a revision above 0, and a pull returns it with the same data and hlc',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const put = h.put(scope, 'a', { title: 'first', n: 1, tags: ['x'], nested: { ok: true } });
      const revision = await h.apply(device, put);
      h.check(
        Number.isSafeInteger(revision) && revision > 0,
        `an applied result must carry the record's new revision, a positive integer; got ${revision}`,
      );
      const record = await h.current(device, scope, COLLECTION, 'a');
      h.check(record !== undefined, 'a pull from the start must return the record just applied');
      h.check(
        jsonEqual(record.data, put.data),
        `the pulled record must hold the pushed data ${canonical(put.data)}, got ${canonical(record.data)}`,
      );
      h.check(
        record.revision === revision,
        `the pulled record's revision must equal the applied result's (${revision}), got ${record.revision}`,
      );
      if (h.capabilities.mutationHlc) {
        h.check(
          record.hlc === put.hlc,
          `the pulled record's hlc must be the applied mutation's (${put.hlc}), got ${record.hlc}`,
        );
      } else {
        h.check(
          isHlc(record.hlc),
          `the pulled record's hlc must be a valid HLC, got ${record.hlc}`,
        );
      }
      h.check(record.deleted === false, 'a record that was put must not be a tombstone');
      h.check(
        record.scope === scope && record.collection === COLLECTION,
        `the pulled record must keep its scope and collection, got ${record.scope}/${record.collection}`,
      );
    },
  },
  {
    id: 'push.idempotent',
    title:
      'A mutation id pushed again (its answer was lost) gets the stored outcome and changes nothing (DESIGN §3.2)',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const put = h.put(scope, 'a', { title: 'once' });
      const first = await h.pushOne(device, put, 'the first push');
      h.check(
        first.status === 'applied',
        `the first push must apply, got ${JSON.stringify(first)}`,
      );
      const again = await h.pushOne(device, put, 'the same mutation pushed again');
      h.check(
        again.status === 'applied' && again.revision === first.revision,
        `a re-sent mutation id must get its stored outcome (applied, revision ${first.revision}), got ${JSON.stringify(again)}: without idempotency a retry after a lost answer turns into a conflict or a second write`,
      );
      const { changes } = await h.pullAll(device, scope);
      const copies = changes.filter((c) => c.id === 'a');
      h.check(
        copies.length === 1 && copies[0]?.revision === first.revision,
        `the re-sent mutation must change nothing: expected one change at revision ${first.revision}, pulled ${JSON.stringify(copies)}`,
      );
    },
  },
  {
    id: 'push.revision-check',
    title:
      'A put whose baseRevision is not the record’s current revision is a conflict carrying the server’s record, and changes nothing (DESIGN §3.3)',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const [a, b] = [await h.connect(user), await h.connect(user)];
      const scope = h.scopeOf(user);
      const r1 = await h.apply(a, h.put(scope, 'a', { v: 1 }));
      const r2 = await h.apply(a, h.put(scope, 'a', { v: 2 }, r1));
      const stale = await h.pushOne(
        b,
        h.put(scope, 'a', { v: 'stale' }, r1),
        'a put on a stale baseRevision',
      );
      expectConflict(h, stale, {
        revision: r2,
        data: { v: 2 },
        what: 'a put on a stale baseRevision',
      });
      const record = await h.current(a, scope, COLLECTION, 'a');
      h.check(
        record?.revision === r2 && jsonEqual(record.data, { v: 2 }),
        `a conflicting put must change nothing: expected {"v":2} at revision ${r2}, found ${JSON.stringify(record)}`,
      );
    },
  },
  {
    id: 'push.new-on-existing',
    title: 'A put with baseRevision 0 on a record that exists is a conflict, not an overwrite',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const [a, b] = [await h.connect(user), await h.connect(user)];
      const scope = h.scopeOf(user);
      const r1 = await h.apply(a, h.put(scope, 'a', { by: 'a' }));
      const second = await h.pushOne(
        b,
        h.put(scope, 'a', { by: 'b' }),
        'a second device creating the same record',
      );
      expectConflict(h, second, {
        revision: r1,
        data: { by: 'a' },
        what: 'a second create of one id',
      });
    },
  },
  {
    id: 'push.patch-merges',
    title: 'A patch merges its top-level fields into the record and keeps the others',
    needs: 'patch',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const r1 = await h.apply(device, h.put(scope, 'a', { title: 't', done: false }));
      await h.apply(
        device,
        h.mutation({
          scope,
          collection: COLLECTION,
          recordId: 'a',
          op: 'patch',
          data: { done: true },
          baseRevision: r1,
        }),
        'a patch',
      );
      const record = await h.current(device, scope, COLLECTION, 'a');
      h.check(
        jsonEqual(record?.data, { title: 't', done: true }),
        `after patching {"done":true} onto {"title":"t","done":false} the record must be {"done":true,"title":"t"}, got ${canonical(record?.data)}`,
      );
    },
  },
  {
    id: 'push.delete-tombstone',
    title:
      'A delete leaves a tombstone (deleted: true, data: null) that a device which had the record pulls, never a silent disappearance',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const r1 = await h.apply(device, h.put(scope, 'a', { v: 1 }));
      // This device has the record; it must learn of the delete from its checkpoint on.
      const before = await h.pullAll(device, scope);
      const r2 = await h.apply(
        device,
        h.mutation({
          scope,
          collection: COLLECTION,
          recordId: 'a',
          op: 'delete',
          baseRevision: r1,
        }),
        'a delete',
      );
      h.check(r2 > r1, `a delete must give the record a higher revision than ${r1}, got ${r2}`);
      const { changes } = await h.pullAll(device, scope, before.checkpoint);
      const tombstone = changes.filter((c) => c.id === 'a').at(-1);
      h.check(
        tombstone !== undefined && tombstone.deleted === true && tombstone.data === null,
        `a pull after the delete must return the tombstone {deleted: true, data: null}, got ${JSON.stringify(tombstone)}: a device that missed the delete would otherwise keep the record forever`,
      );
      h.check(
        tombstone.revision > r1,
        `the tombstone's revision must be above the record's last one (${r1}), got ${tombstone.revision}`,
      );
    },
  },
  {
    id: 'push.no-resurrection',
    title:
      'A put with a pre-delete baseRevision on a deleted record is a conflict, not a resurrection (DESIGN §3.8)',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const [a, b] = [await h.connect(user), await h.connect(user)];
      const scope = h.scopeOf(user);
      const r1 = await h.apply(a, h.put(scope, 'a', { v: 1 }));
      await h.apply(
        a,
        h.mutation({
          scope,
          collection: COLLECTION,
          recordId: 'a',
          op: 'delete',
          baseRevision: r1,
        }),
      );
      const late = await h.pushOne(
        b,
        h.put(scope, 'a', { v: 'edit' }, r1),
        'an edit made before the delete',
      );
      h.check(
        late.status === 'conflict',
        `an edit on the pre-delete revision must be a conflict, got ${JSON.stringify(late)}`,
      );
      const server = (late as ConflictResult).server;
      h.check(
        server === null || server.deleted === true,
        `the conflict must carry the tombstone (or null if it was purged), got ${JSON.stringify(server)}`,
      );
      const record = await h.current(a, scope, COLLECTION, 'a');
      h.check(
        record === undefined || record.deleted === true,
        `the record must stay deleted, found ${JSON.stringify(record)}`,
      );
    },
  },
  {
    id: 'push.results-in-order',
    title: 'A push answers one result per mutation, in request order, each for its own mutation',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const mutations = ['c', 'a', 'e', 'b', 'd'].map((recordId, i) =>
        h.mutation({
          scope,
          collection: COLLECTION,
          recordId,
          op: 'put',
          data: { i },
          baseRevision: 0,
        }),
      );
      // h.push checks count and order of the ids.
      const response = await h.push(device, mutations, 'a push of five new records');
      response.results.forEach((result, i) => {
        h.check(
          result.status === 'applied',
          `result ${i} must be applied, got ${JSON.stringify(result)}`,
        );
      });
    },
  },
  {
    id: 'push.transaction-atomic',
    title: 'Mutations sharing a txId apply together or not at all',
    needs: 'transactions',
    async run(h: CaseHarness) {
      const user = h.newUser();
      const device = await h.connect(user);
      const scope = h.scopeOf(user);
      const r1 = await h.apply(device, h.put(scope, 'x', { v: 1 }));
      await h.apply(device, h.put(scope, 'x', { v: 2 }, r1));
      const txId = `tx-${h.newUser()}`;
      const fresh = h.put(scope, 'y', { v: 1 }, 0, txId);
      const stale = h.put(scope, 'x', { v: 'stale' }, r1, txId);
      const response = await h.push(device, [fresh, stale], 'a transaction with one stale member');
      h.check(
        response.results.every((r) => r.status !== 'applied'),
        `no member of a transaction with a conflicting member may apply, got ${JSON.stringify(response.results)}`,
      );
      const y = await h.current(device, scope, COLLECTION, 'y');
      h.check(
        y === undefined,
        `the transaction's other member must not have been written, found ${JSON.stringify(y)}`,
      );
    },
  },
];

function expectConflict(
  h: CaseHarness,
  result: MutationResult,
  expected: { revision: number; data: Record<string, unknown>; what: string },
): void {
  h.check(
    result.status === 'conflict',
    `${expected.what} must be answered with a conflict, got ${JSON.stringify(result)}: a backend that overwrites silently loses the other device's edit`,
  );
  const server = (result as ConflictResult).server;
  h.check(
    server !== null && server.revision === expected.revision,
    `the conflict must carry the server's current record (revision ${expected.revision}), got ${JSON.stringify(server)}`,
  );
  h.check(
    jsonEqual(server.data, expected.data as never),
    `the conflict's server record must hold the current data ${canonical(expected.data as never)}, got ${canonical(server.data)}`,
  );
}
