/**
 * The in-memory part of a push: given the records the transaction read and the outcomes
 * already stored, decide every entry's result, the records to write and the new scope
 * versions. Pure, so its rules are tested without a database; `push-transaction.ts` does the
 * I/O around it. The rules match the protocol's executable reference, the in-memory server of
 * `@syncline/sync-core/testing` (`memory-push.ts`):
 *
 * - `applied` and `rejected` outcomes are stored (an applied mutation never applies twice, a
 *   rejection is permanent); a `conflict` is not, so a re-sent id is judged again.
 * - A mutation id stored for another user is rejected `forbidden`, never echoed.
 * - A `txId` group is one unit at the position of its first member. One refused member
 *   (invalid, forbidden) rejects every member with `tx_rejected`; members see each other's
 *   staged writes; one conflict makes every member `conflict` with the committed record.
 * - A mutation whose stored outcome is gone (purged after the retention window) but whose
 *   record still carries its `hlc` was applied before (DESIGN §3.2): it is answered `applied`
 *   at the record's revision, changes nothing, and its outcome is stored again. A group is
 *   recognised only when every member is; otherwise it is judged as usual.
 *
 * @module
 */
import {
  decideMutation,
  type Mutation,
  type MutationResult,
  type MutationVerdict,
  type SyncRecord,
} from '@syncline/sync-core/protocol';
import { recordKey } from './rows.js';
import type { StorePushEntry } from './types.js';

/** An outcome stored by an earlier push, with the user who pushed it. */
export interface PriorOutcome {
  userId: string;
  result: MutationResult;
}

/** What the plan needs to know. */
export interface PushPlanInput {
  /** The pushing user. */
  userId: string;
  entries: readonly StorePushEntry[];
  /** Current records, by {@link recordKey}. */
  records: ReadonlyMap<string, SyncRecord>;
  /** Current version of every scope the push writes. */
  versions: ReadonlyMap<string, number>;
  /** Outcomes of mutation ids already processed. */
  prior: ReadonlyMap<string, PriorOutcome>;
  /** Most top-level fields a patched record may end up with. */
  maxFieldsPerRecord: number;
}

/** The decisions of a push. */
export interface PushPlan {
  /** One result per entry, in request order. */
  results: MutationResult[];
  /** New outcomes to store (`applied` and `rejected`), by mutation id. */
  store: Map<string, MutationResult>;
  /** Final state of every record written, by key. */
  writes: Map<string, SyncRecord>;
  /** New version of every scope that changed. */
  versions: Map<string, number>;
}

const idOf = (entry: StorePushEntry) => (entry.ok ? entry.mutation.id : entry.id);

/** Decides a whole push. */
export function planPush(input: PushPlanInput): PushPlan {
  const { entries } = input;
  const records = new Map(input.records);
  const versions = new Map(input.versions);
  const results: MutationResult[] = new Array(entries.length);
  const plan: PushPlan = { results, store: new Map(), writes: new Map(), versions: new Map() };
  const finish = (index: number, result: MutationResult) => {
    results[index] = result;
    if (result.status !== 'conflict') plan.store.set(result.id, result);
  };

  // Units of work in request order: a lone mutation, or a txId group at its first member.
  const units: number[][] = [];
  const groups = new Map<string, number[]>();
  entries.forEach((entry, index) => {
    const prior = input.prior.get(idOf(entry));
    if (prior !== undefined) {
      results[index] =
        prior.userId === input.userId
          ? prior.result
          : rejected(idOf(entry), 'forbidden', 'this mutation id belongs to another user');
      return;
    }
    const txId = entry.ok ? entry.mutation.txId : entry.txId;
    const group = txId === undefined ? undefined : groups.get(txId);
    if (group !== undefined) group.push(index);
    else {
      const unit = [index];
      if (txId !== undefined) groups.set(txId, unit);
      units.push(unit);
    }
  });

  for (const unit of units) {
    const members = unit.map((index) => entries[index] as StorePushEntry);
    // 1. A refused member (invalid, forbidden) rejects the whole group.
    const culprit = members.find((entry) => !entry.ok);
    if (culprit !== undefined) {
      unit.forEach((index, k) => {
        const entry = members[k] as StorePushEntry;
        if (unit.length === 1 && !entry.ok)
          finish(index, rejected(entry.id, entry.code, entry.message));
        else if (!entry.ok)
          finish(index, rejected(entry.id, 'tx_rejected', `${entry.code}: ${entry.message}`));
        else {
          finish(
            index,
            rejected(
              entry.mutation.id,
              'tx_rejected',
              `transaction member ${idOf(culprit)} was rejected`,
            ),
          );
        }
      });
      continue;
    }
    const mutations = members.map((entry) => (entry as StorePushEntry & { ok: true }).mutation);

    // 2. Re-sent after the retention window, and still the record's latest write.
    const recognised = mutations.map((m) =>
      recognisedRevision(m, records.get(recordKey(m.scope, m.collection, m.recordId))),
    );
    if (recognised.every((revision) => revision !== undefined)) {
      mutations.forEach((m, k) => {
        finish(unit[k] as number, {
          id: m.id,
          status: 'applied',
          revision: recognised[k] as number,
        });
      });
      continue;
    }

    // 3. Revision checks against a staged view, so members see each other's writes.
    const staged = new Map<string, SyncRecord>();
    const stagedVersions = new Map<string, number>();
    const verdicts = mutations.map((m): MutationVerdict => {
      const key = recordKey(m.scope, m.collection, m.recordId);
      const current = staged.get(key) ?? records.get(key) ?? null;
      const version = (stagedVersions.get(m.scope) ?? versions.get(m.scope) ?? 0) + 1;
      const verdict = decideMutation(m, current, version, input.maxFieldsPerRecord);
      if (verdict.kind === 'ok') {
        staged.set(key, verdict.record);
        stagedVersions.set(m.scope, version);
      }
      return verdict;
    });
    if (verdicts.some((v) => v.kind === 'reject')) {
      mutations.forEach((m, k) => {
        const v = verdicts[k] as MutationVerdict;
        const message =
          v.kind === 'reject' ? v.message : 'another member of the transaction was rejected';
        finish(
          unit[k] as number,
          rejected(m.id, unit.length === 1 ? 'invalid' : 'tx_rejected', message),
        );
      });
      continue;
    }
    if (verdicts.some((v) => v.kind === 'conflict')) {
      // None applies. Every member gets the committed record: for the members that did not
      // conflict themselves its revision equals their baseRevision (or it is null for 0), so
      // the client re-sends them unchanged once the real conflict is resolved.
      mutations.forEach((m, k) => {
        const server = records.get(recordKey(m.scope, m.collection, m.recordId)) ?? null;
        finish(unit[k] as number, { id: m.id, status: 'conflict', server });
      });
      continue;
    }
    // 4. Commit, in request order.
    mutations.forEach((m, k) => {
      const { record } = verdicts[k] as Extract<MutationVerdict, { kind: 'ok' }>;
      const key = recordKey(m.scope, m.collection, m.recordId);
      records.set(key, record);
      plan.writes.set(key, record);
      versions.set(m.scope, record.revision);
      plan.versions.set(m.scope, record.revision);
      finish(unit[k] as number, { id: m.id, status: 'applied', revision: record.revision });
    });
  }
  return plan;
}

/**
 * The revision at which `m` was applied, when `current` is still the record `m` wrote: same
 * `hlc` (an HLC names one write of one client), the same liveness, and a revision past
 * `m.baseRevision`. `undefined` otherwise.
 */
function recognisedRevision(m: Mutation, current: SyncRecord | undefined): number | undefined {
  if (current === undefined || current.hlc !== m.hlc) return undefined;
  if (current.deleted !== (m.op === 'delete') || current.revision <= m.baseRevision)
    return undefined;
  return current.revision;
}

function rejected(id: string, code: string, message: string): MutationResult {
  return { id, status: 'rejected', code, message };
}
