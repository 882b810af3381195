/**
 * The in-memory part of a push: given the records the transaction read and the outcomes
 * already stored, decide every entry's result, the records to write and the new scope
 * versions. Pure, so its rules are tested without a database; `push-transaction.ts` does the
 * I/O around it.
 *
 * @module
 */
import type { Mutation, MutationResult, SyncRecord } from '@syncline/sync-core/protocol';
import { decide } from './decide.js';
import { recordKey } from './rows.js';
import type { StorePushEntry } from './types.js';

/** A stored outcome of an earlier push, or a mutation id owned by another user. */
export type PriorOutcome = { kind: 'stored'; result: MutationResult } | { kind: 'foreign' };

/** What the plan needs to know. */
export interface PushPlanInput {
  entries: readonly StorePushEntry[];
  /** Current records, by {@link recordKey}. */
  records: ReadonlyMap<string, SyncRecord>;
  /** Current version of every scope the push writes. */
  versions: ReadonlyMap<string, number>;
  /** Outcomes of mutation ids already processed. */
  prior: ReadonlyMap<string, PriorOutcome>;
}

/** The decisions of a push. */
export interface PushPlan {
  /** One result per entry, in request order. */
  results: MutationResult[];
  /** Ids whose result is `applied` and must be stored. */
  applied: Map<string, MutationResult>;
  /** Final state of every record written, by key. */
  writes: Map<string, SyncRecord>;
  /** New version of every scope that changed. */
  versions: Map<string, number>;
}

type Unit = { txId: string | undefined; indexes: number[] };

/** Groups entries into units: a lone mutation, or every member of one `txId`. */
function units(entries: readonly StorePushEntry[]): Unit[] {
  const out: Unit[] = [];
  const byTx = new Map<string, Unit>();
  entries.forEach((entry, index) => {
    const txId = entry.ok ? entry.mutation.txId : entry.txId;
    if (txId === undefined) {
      out.push({ txId: undefined, indexes: [index] });
      return;
    }
    let unit = byTx.get(txId);
    if (unit === undefined) {
      unit = { txId, indexes: [] };
      byTx.set(txId, unit);
      out.push(unit);
    }
    unit.indexes.push(index);
  });
  return out;
}

/** Decides a whole push. */
export function planPush(input: PushPlanInput): PushPlan {
  const records = new Map(input.records);
  const versions = new Map(input.versions);
  const results: MutationResult[] = new Array(input.entries.length);
  const plan: PushPlan = { results, applied: new Map(), writes: new Map(), versions: new Map() };

  const recordOf = (m: Mutation) =>
    records.get(recordKey(m.scope, m.collection, m.recordId)) ?? null;
  const apply = (m: Mutation, data: SyncRecord['data'], deleted: boolean): number => {
    const revision = (versions.get(m.scope) ?? 0) + 1;
    versions.set(m.scope, revision);
    plan.versions.set(m.scope, revision);
    const record: SyncRecord = {
      scope: m.scope,
      collection: m.collection,
      id: m.recordId,
      data,
      revision,
      hlc: m.hlc,
      deleted,
    };
    const key = recordKey(m.scope, m.collection, m.recordId);
    records.set(key, record);
    plan.writes.set(key, record);
    return revision;
  };

  for (const unit of units(input.entries)) {
    // Entries answered without looking at records: refused, stored, or someone else's id.
    const open: number[] = [];
    for (const index of unit.indexes) {
      const entry = input.entries[index] as StorePushEntry;
      const early = earlyResult(entry, input.prior);
      if (early === undefined) open.push(index);
      else results[index] = early;
    }
    if (open.length === 0) continue;

    const refused = unit.indexes.filter((i) => !(input.entries[i] as StorePushEntry).ok);
    if (unit.txId !== undefined && refused.length > 0) {
      // One refused member rejects the group; the refused members keep their own reason.
      for (const index of open) {
        results[index] = {
          id: (input.entries[index] as StorePushEntry & { ok: true }).mutation.id,
          status: 'rejected',
          code: 'tx_rejected',
          message: 'another mutation of the same transaction was rejected',
        };
      }
      continue;
    }

    const mutations = open.map((i) => (input.entries[i] as StorePushEntry & { ok: true }).mutation);
    if (unit.txId === undefined) {
      const m = mutations[0] as Mutation;
      const decision = decide(recordOf(m), m);
      results[open[0] as number] =
        decision.kind === 'apply'
          ? applied(m.id, apply(m, decision.data, decision.deleted), plan)
          : { id: m.id, status: 'conflict', server: recordOf(m) };
      continue;
    }

    // A group: decide every member against a scratch copy first; apply only if none conflicts.
    const scratch = new Map(records);
    const decisions = mutations.map((m) => {
      const key = recordKey(m.scope, m.collection, m.recordId);
      const decision = decide(scratch.get(key) ?? null, m);
      if (decision.kind === 'apply') {
        scratch.set(key, {
          scope: m.scope,
          collection: m.collection,
          id: m.recordId,
          data: decision.data,
          // Members of one transaction are all based on the client's view before it.
          revision: m.baseRevision,
          hlc: m.hlc,
          deleted: decision.deleted,
        });
      }
      return decision;
    });
    if (decisions.every((d) => d.kind === 'apply')) {
      mutations.forEach((m, k) => {
        const d = decisions[k] as Extract<(typeof decisions)[number], { kind: 'apply' }>;
        results[open[k] as number] = applied(m.id, apply(m, d.data, d.deleted), plan);
      });
    } else {
      // None applies. Every member answers conflict with the server's current record: for the
      // members that did not conflict themselves its revision equals their baseRevision, so
      // the client re-sends them unchanged once the conflicting member is resolved.
      mutations.forEach((m, k) => {
        results[open[k] as number] = { id: m.id, status: 'conflict', server: recordOf(m) };
      });
    }
  }
  return plan;
}

function applied(id: string, revision: number, plan: PushPlan): MutationResult {
  const result: MutationResult = { id, status: 'applied', revision };
  plan.applied.set(id, result);
  return result;
}

function earlyResult(
  entry: StorePushEntry,
  prior: ReadonlyMap<string, PriorOutcome>,
): MutationResult | undefined {
  if (!entry.ok) {
    return { id: entry.id, status: 'rejected', code: entry.code, message: entry.message };
  }
  const seen = prior.get(entry.mutation.id);
  if (seen === undefined) return undefined;
  if (seen.kind === 'stored') return seen.result;
  // Never echo another user's outcome: it could carry their record.
  return {
    id: entry.mutation.id,
    status: 'rejected',
    code: 'duplicate_id',
    message: 'this mutation id was already used',
  };
}
