import type { ConflictResolution, ParkedConflict } from '../conflict/types.js';
import type { EngineContext } from '../engine/context.js';
import type { OutboxEntry } from '../outbox/outbox.js';
import type {
  ConflictResult,
  Mutation,
  MutationResult,
  RejectedResult,
  SyncRecord,
} from '../protocol/types.js';
import type { ReplicaBatch } from '../replica/batch.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import { applyMutation } from '../store/apply-mutation.js';
import { deepFreeze } from '../store/freeze.js';
import { jsonEqual } from '../store/json-equal.js';

/** What applying one push answer produced, for the caller to announce after it is durable. */
export interface PushOutcome {
  /** Conflicts parked by a `manual` resolution. */
  parked: ParkedConflict[];
  /** Mutations rejected permanently. */
  rejected: DeadLetter[];
}

/**
 * Applies the server's answers to a pushed batch, in memory, adding to `write` the ops that
 * make it durable in ONE write (DESIGN §3.6: a mutation leaves the outbox in the same write
 * that updates its base record). One function per outcome: {@link settleApplied},
 * {@link settleConflict} (parked, dropped or rewritten, as the resolver decides),
 * {@link settleRejected}. `ownRevisions` (per scope, the highest revision the server gave our
 * mutations, to tell our own pokes) is raised by the revisions this answer gave.
 * `scopeRevisions`: the transport's revisions are scope versions (`SyncTransport.revisions`).
 */
export function applyPushResults(
  ctx: EngineContext,
  write: ReplicaBatch,
  sent: readonly OutboxEntry[],
  results: readonly MutationResult[],
  ownRevisions: Map<string, number>,
  scopeRevisions: boolean,
): PushOutcome {
  const outcome: PushOutcome = { parked: [], rejected: [] };
  const { outbox, store } = write.replica;
  outbox.release(sent);
  for (let i = 0; i < sent.length; i++) {
    const entry = sent[i] as OutboxEntry;
    const result = results[i] as MutationResult;
    if (result.status === 'applied')
      settleApplied(write, ownRevisions, entry, result.revision, scopeRevisions);
    else if (result.status === 'conflict') settleConflict(ctx, write, outcome, entry, result);
    else settleRejected(ctx, write, outcome, entry, result);
    const { collection, recordId } = entry.mutation;
    if (store.recompute(collection, recordId)) ctx.notifier.changed(collection, recordId);
  }
  if (write.ops.length > 0) write.noteClock(ctx.clock.last);
  ctx.refreshCounts(write.replica);
  return outcome;
}

/**
 * `applied`: the entry leaves the outbox; the base record becomes the mutation applied to the
 * old base, at the new revision (unless a pull already brought something newer); the record's
 * next queued mutation is rebased onto that revision (§3.2b). With scope versions
 * (`scopeRevisions`), an answer at a revision our pulls already read past, for a record they did
 * not return, is a stored outcome replayed (DESIGN §3.2) for a record deleted since and its
 * tombstone purged: it does not become the base.
 */
function settleApplied(
  write: ReplicaBatch,
  ownRevisions: Map<string, number>,
  entry: OutboxEntry,
  revision: number,
  scopeRevisions: boolean,
): void {
  const { mutation } = entry;
  const { scope, collection, recordId } = mutation;
  write.unqueue(entry);
  const previous = write.replica.store.base(collection, recordId);
  // A reset under way keeps it if its pages were read before this write was applied (which
  // only scope versions can tell: a per-record revision always keeps it).
  write.answered(scope, collection, recordId, scopeRevisions ? revision : Infinity);
  // The record as our write left it, at the revision the server gave it: the next queued
  // mutation starts from there (a newer pulled base, if any, stays the base record).
  const data = applyMutation(entry.base, mutation);
  if (
    previous === undefined
      ? !scopeRevisions || revision > (write.replica.pulledRevisions.get(scope) ?? 0)
      : previous.revision < revision
  ) {
    write.setBase(
      Object.freeze({
        scope,
        collection,
        id: recordId,
        data,
        revision,
        hlc: mutation.hlc,
        deleted: mutation.op === 'delete',
      }),
    );
  }
  if (revision > (ownRevisions.get(scope) ?? 0)) ownRevisions.set(scope, revision);
  write.rebaseNext(collection, recordId, revision, data);
}

/**
 * `conflict`: if the server's revision is the mutation's own base revision, the mutation did
 * not conflict itself (a `txId` sibling did): it stays queued unchanged (the caller's
 * recompute of its view then finds no change). Otherwise the server's record becomes the base
 * and the collection's resolver decides (a resolver that throws counts as `manual`: the write
 * is neither lost nor blocking):
 * - `manual`: the entry leaves the outbox and waits, parked, for the app's decision;
 * - `server`, or a result equal to the server's data (so resolution can never loop): the local
 *   change is dropped;
 * - `write`: the entry's mutation is replaced in place by the resolver's data on top of the
 *   server's revision.
 */
function settleConflict(
  ctx: EngineContext,
  write: ReplicaBatch,
  outcome: PushOutcome,
  entry: OutboxEntry,
  result: ConflictResult,
): void {
  const { mutation, base } = entry;
  const { collection, recordId } = mutation;
  const { server } = result;
  const serverData = server === null || server.deleted ? null : server.data;
  const revision = server?.revision ?? 0;
  // Only a transaction member can be held back by a sibling; a patch of an absent or
  // deleted record conflicts on its own even at the same revision.
  const sibling =
    mutation.txId !== undefined &&
    !(mutation.op === 'patch' && serverData === null) &&
    revision === mutation.baseRevision;
  if (sibling) return;
  adoptServerRecord(ctx, write, mutation, server);
  const local = applyMutation(base, mutation);
  let resolution: ConflictResolution;
  try {
    resolution = ctx.resolverFor(collection)({
      collection,
      id: recordId,
      base,
      local,
      server: serverData,
      localHlc: mutation.hlc,
      serverHlc: server?.hlc ?? '',
      serverRecord: server,
      mutation,
    });
  } catch {
    resolution = { action: 'manual' };
  }
  if (resolution.action === 'manual') {
    write.unqueue(entry);
    const parked: ParkedConflict = {
      mutationId: mutation.id,
      collection,
      recordId,
      base,
      local,
      server,
    };
    write.parkConflict({ conflict: parked, mutation });
    outcome.parked.push(parked);
  } else if (resolution.action === 'server' || jsonEqual(resolution.data, serverData)) {
    write.unqueue(entry);
    write.rebaseNext(collection, recordId, revision, serverData);
  } else {
    // A new mutation of the record (same scope and transaction) on the server's revision.
    // (Built whole: V8 slows an object built by spread down once a property is written to it.)
    const { data: _localData, ...kept } = mutation;
    const rewrite = { ...kept, id: ctx.newId(), baseRevision: revision, hlc: ctx.clock.tick() };
    write.replace(
      entry,
      resolution.data === null
        ? { ...rewrite, op: 'delete' }
        : { ...rewrite, op: 'put', data: deepFreeze(resolution.data) },
      serverData,
    );
  }
}

/** `rejected`: the entry becomes a dead letter; the view rolls back by itself. */
function settleRejected(
  ctx: EngineContext,
  write: ReplicaBatch,
  outcome: PushOutcome,
  entry: OutboxEntry,
  result: RejectedResult,
): void {
  write.unqueue(entry);
  const letter: DeadLetter = {
    mutation: entry.mutation,
    code: result.code,
    message: result.message,
    rejectedAt: ctx.env.now(),
  };
  write.deadLetter(letter);
  outcome.rejected.push(letter);
}

/** Makes the server's record of a conflict the base (unless the base is already newer). */
function adoptServerRecord(
  ctx: EngineContext,
  write: ReplicaBatch,
  mutation: Mutation,
  server: SyncRecord | null,
): void {
  const { collection, recordId } = mutation;
  const { replica } = write;
  const previous = replica.store.base(collection, recordId);
  if (server === null) {
    // The server holds nothing (never created, or its tombstone was purged).
    if (previous !== undefined) write.deleteBase(collection, recordId);
    return;
  }
  try {
    ctx.clock.receive(server.hlc);
  } catch {
    // A record's hlc is any plain text on the wire (an adapter's own timestamp): the clock
    // learns only from the HLCs it can read, and the answer is settled all the same.
  }
  // The server has it now: a reset under way keeps it.
  write.answered(server.scope, collection, recordId, Infinity);
  if (previous !== undefined && previous.revision >= server.revision) return;
  if (ctx.admitServerRecord !== null && !ctx.admitServerRecord(replica, server, write)) return;
  write.setBase(deepFreeze(server));
}
