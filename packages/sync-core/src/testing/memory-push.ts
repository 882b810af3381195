/**
 * The push semantics of the in-memory server, as the SQL server implements them (DESIGN §3):
 * stored outcomes, revision checks, tombstones, patch merge, atomic `txId` groups,
 * per-mutation validation and authorization.
 *
 * Which outcomes are stored: `applied` and `rejected` ones, because an applied mutation must
 * never apply twice and a rejection is permanent. A `conflict` is not stored: it changed
 * nothing, so evaluating a re-sent id again is safe, and the client re-sends a conflicted
 * `txId` member unchanged once the group's real conflict is resolved (see `ConflictResult`),
 * which a stored conflict would block forever.
 *
 * @module
 */
import { decideMutation, type MutationVerdict } from '../protocol/decide-mutation.js';
import type { Mutation, MutationResult, RejectedResult, SyncRecord } from '../protocol/types.js';
import type { ParsedPushRequest, PushEntry } from '../protocol/validate-requests.js';
import { type MemoryScope, recordKey } from './memory-scope.js';

/** One applied mutation, as {@link MemoryServer.appliedLog} lists it. */
export interface AppliedLogEntry {
  /** The mutation id. */
  mutationId: string;
  /** The scope it wrote. */
  scope: string;
  /** The scope version it created (the record's new revision). */
  version: number;
  /** The collection. */
  collection: string;
  /** The record id. */
  recordId: string;
  /** The operation. */
  op: Mutation['op'];
  /** The authenticated user that pushed it. */
  userId: string;
  /** The client id the push request named. */
  clientId: string;
  /** The authenticated session that pushed it. */
  sessionId: string;
}

/** An outcome kept for a mutation id, with the user it belongs to. */
export interface StoredOutcome {
  userId: string;
  result: MutationResult;
}

/** Counters the push path updates. */
export interface PushCounters {
  dedupeHits: number;
  conflicts: number;
  rejected: number;
}

/** What the push algorithm needs from the server. */
export interface PushContext {
  readonly userId: string;
  readonly sessionId: string;
  readonly now: number;
  readonly maxFieldsPerRecord: number;
  readonly outcomes: Map<string, StoredOutcome>;
  readonly counters: PushCounters;
  authorized(scope: string): boolean;
  scope(name: string): MemoryScope;
  applied(entry: AppliedLogEntry): void;
}

/**
 * Processes a validated push; returns one result per mutation in request order and the scopes
 * whose version changed.
 */
export function processPush(
  request: ParsedPushRequest,
  ctx: PushContext,
): { results: MutationResult[]; changedScopes: Set<string> } {
  const { entries } = request;
  const results: Array<MutationResult | undefined> = new Array(entries.length);
  const changedScopes = new Set<string>();

  // Units of work in request order: a single mutation (its index), or a whole txId group at
  // the position of its first member.
  const units: Array<number | number[]> = [];
  const groups = new Map<string, number[]>();
  entries.forEach((entry, i) => {
    const stored = ctx.outcomes.get(entry.id);
    if (stored !== undefined) {
      if (stored.userId === ctx.userId) {
        results[i] = { ...stored.result }; // stored results are flat: applied or rejected
        ctx.counters.dedupeHits++;
      } else {
        // Never hand one user's stored outcome (which may hold a record) to another.
        results[i] = rejected(entry.id, 'forbidden', 'this mutation id belongs to another user');
        ctx.counters.rejected++;
      }
      return;
    }
    const txId = entry.ok ? entry.mutation.txId : entry.txId;
    if (txId === undefined) {
      units.push(i);
      return;
    }
    const group = groups.get(txId);
    if (group === undefined) {
      const members = [i];
      groups.set(txId, members);
      units.push(members);
    } else {
      group.push(i);
    }
  });

  const finish = (i: number, result: MutationResult): void => {
    // Frozen, so the stored outcome can be the very object answered (applied and rejected
    // results are flat; a conflict's record is frozen already).
    results[i] = Object.freeze(result);
    if (result.status === 'conflict') ctx.counters.conflicts++;
    else ctx.outcomes.set(result.id, { userId: ctx.userId, result });
    if (result.status === 'rejected') ctx.counters.rejected++;
  };

  for (const unit of units) {
    if (typeof unit === 'number') {
      processSingle(unit, entries[unit]!, ctx, finish, changedScopes, request.clientId);
    } else {
      processUnit(unit, entries, ctx, finish, changedScopes, request.clientId);
    }
  }
  return { results: results as MutationResult[], changedScopes };
}

function processUnit(
  unit: number[],
  entries: PushEntry[],
  ctx: PushContext,
  finish: (i: number, result: MutationResult) => void,
  changedScopes: Set<string>,
  clientId: string,
): void {
  if (unit.length === 1) {
    processSingle(unit[0]!, entries[unit[0]!]!, ctx, finish, changedScopes, clientId);
    return;
  }
  // 1. Permanent rejections (invalid, forbidden): one rejected member rejects the group.
  const reasons = unit.map((i) => rejection(entries[i]!, ctx));
  const culprit = reasons.findIndex((r) => r !== undefined);
  if (culprit !== -1) {
    const culpritId = entries[unit[culprit]!]!.id;
    unit.forEach((i, k) => {
      const id = entries[i]!.id;
      const reason = reasons[k];
      if (unit.length === 1) finish(i, reason!);
      else if (reason !== undefined) {
        finish(i, rejected(id, 'tx_rejected', `${reason.code}: ${reason.message}`));
      } else {
        finish(i, rejected(id, 'tx_rejected', `transaction member ${culpritId} was rejected`));
      }
    });
    return;
  }

  // 2. Revision checks against a staged view, so members see each other's writes.
  const mutations = unit.map((i) => (entries[i] as { mutation: Mutation }).mutation);
  const staged = new Map<string, SyncRecord>();
  const stagedVersions = new Map<string, number>();
  const verdicts: MutationVerdict[] = mutations.map((m) => {
    const key = `${m.scope}\u0000${recordKey(m.collection, m.recordId)}`;
    const scope = ctx.scope(m.scope);
    const current = staged.get(key) ?? scope.get(m.collection, m.recordId);
    const version = (stagedVersions.get(m.scope) ?? scope.version) + 1;
    const verdict = decideMutation(m, current ?? null, version, ctx.maxFieldsPerRecord);
    if (verdict.kind === 'ok') {
      staged.set(key, verdict.record);
      stagedVersions.set(m.scope, version);
    }
    return verdict;
  });

  const refusal = verdicts.find((v) => v.kind === 'reject');
  if (refusal !== undefined) {
    mutations.forEach((m, k) => {
      const v = verdicts[k]!;
      const message =
        v.kind === 'reject' ? v.message : 'another member of the transaction was rejected';
      finish(unit[k]!, rejected(m.id, unit.length === 1 ? 'invalid' : 'tx_rejected', message));
    });
    return;
  }

  if (verdicts.some((v) => v.kind === 'conflict')) {
    // None applied. Every member is answered with the committed record: for the members that
    // conflicted it is the reason, for the others it has revision === their baseRevision (or is
    // null for baseRevision 0), so the client re-sends them unchanged.
    mutations.forEach((m, k) => {
      const server = ctx.scope(m.scope).get(m.collection, m.recordId);
      finish(unit[k]!, {
        id: m.id,
        status: 'conflict',
        // Stored records are deep-frozen, so the answer may hold them as they are.
        server: server ?? null,
      });
    });
    return;
  }

  // 3. Commit, in request order.
  mutations.forEach((m, k) => {
    const record = (verdicts[k] as { record: SyncRecord }).record;
    finish(unit[k]!, commit(m, record, ctx, changedScopes, clientId));
  });
}

/**
 * {@link processUnit} for a unit of one mutation (no `txId`, the common case), without the
 * staging maps and per-unit arrays a transaction needs. Same outcomes, step for step.
 */
function processSingle(
  i: number,
  entry: PushEntry,
  ctx: PushContext,
  finish: (i: number, result: MutationResult) => void,
  changedScopes: Set<string>,
  clientId: string,
): void {
  const reason = rejection(entry, ctx);
  if (reason !== undefined) {
    finish(i, reason);
    return;
  }
  const m = (entry as { mutation: Mutation }).mutation;
  const scope = ctx.scope(m.scope);
  const current = scope.get(m.collection, m.recordId);
  const verdict = decideMutation(m, current ?? null, scope.version + 1, ctx.maxFieldsPerRecord);
  if (verdict.kind === 'reject') {
    finish(i, rejected(m.id, 'invalid', verdict.message));
    return;
  }
  if (verdict.kind === 'conflict') {
    finish(i, {
      id: m.id,
      status: 'conflict',
      server: current ?? null,
    });
    return;
  }
  finish(i, commit(m, verdict.record, ctx, changedScopes, clientId));
}

/** Writes an applied mutation's record, logs it and answers `applied`. */
function commit(
  m: Mutation,
  record: SyncRecord,
  ctx: PushContext,
  changedScopes: Set<string>,
  clientId: string,
): MutationResult {
  ctx.scope(m.scope).write(record, ctx.now);
  changedScopes.add(m.scope);
  ctx.applied({
    mutationId: m.id,
    scope: m.scope,
    version: record.revision,
    collection: m.collection,
    recordId: m.recordId,
    op: m.op,
    userId: ctx.userId,
    clientId,
    sessionId: ctx.sessionId,
  });
  return { id: m.id, status: 'applied', revision: record.revision };
}

function rejection(entry: PushEntry, ctx: PushContext): RejectedResult | undefined {
  if (!entry.ok) return rejected(entry.id, 'invalid', entry.error.message);
  if (!ctx.authorized(entry.mutation.scope)) {
    return rejected(entry.id, 'forbidden', `not allowed to write scope ${entry.mutation.scope}`);
  }
  return undefined;
}

function rejected(id: string, code: string, message: string): RejectedResult {
  return { id, status: 'rejected', code, message };
}
