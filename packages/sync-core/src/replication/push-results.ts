import type { EngineContext } from '../client/context.js';
import { baseKey, KEYS, type Replica, type StoredConflict } from '../client/replica.js';
import type { DeadLetter, ParkedConflict } from '../client/types.js';
import type { ConflictContext, ConflictResolution } from '../conflict/types.js';
import { type OutboxEntry, storedEntry } from '../outbox/outbox.js';
import type { JsonObject, Mutation, MutationResult, SyncRecord } from '../protocol/types.js';
import type { StorageWrite } from '../storage/types.js';
import { applyMutation } from '../store/apply-mutation.js';
import { deepFreeze } from '../store/freeze.js';
import { jsonEqual } from '../store/json-equal.js';
import { recordKey } from '../store/record-key.js';

/** What applying one push answer produced, for the caller to announce after it is durable. */
export interface PushOutcome {
  /** Conflicts parked by a `manual` resolution. */
  parked: ParkedConflict[];
  /** Mutations rejected permanently. */
  rejected: DeadLetter[];
  /** Highest revision the server assigned to our mutations, per scope (to skip our own pokes). */
  ownRevisions: Map<string, number>;
}

/**
 * Applies the server's answers to a pushed batch, in memory, and returns the storage ops that
 * make it durable in ONE write (DESIGN §3.6: a mutation leaves the outbox in the same write
 * that updates its base record):
 *
 * - `applied`: the entry leaves the outbox; the base record becomes the mutation applied to
 *   the old base, at the new revision (unless a pull already brought something newer); the
 *   record's next queued mutation is rebased onto that revision (§3.2b).
 * - `conflict`: if the server's revision is the mutation's own base revision, the mutation did
 *   not conflict itself (a `txId` sibling did): it stays queued unchanged. Otherwise the
 *   server's record becomes the base and the collection's resolver decides: `server` drops the
 *   local change, `write` replaces it in place by a new mutation on top of the server's
 *   revision (or drops it when the result equals the server's data, so resolution can never
 *   loop), `manual` parks it.
 * - `rejected`: the entry becomes a dead letter; the view rolls back by itself.
 */
export function applyPushResults(
  ctx: EngineContext,
  replica: Replica,
  batch: readonly OutboxEntry[],
  results: readonly MutationResult[],
  ops: StorageWrite[],
): PushOutcome {
  const outcome: PushOutcome = { parked: [], rejected: [], ownRevisions: new Map() };
  const { outbox, store } = replica;
  for (let i = 0; i < batch.length; i++) {
    const entry = batch[i] as OutboxEntry;
    const result = results[i] as MutationResult;
    const mutation = entry.mutation;
    const { collection, recordId } = mutation;
    entry.inFlight = false;
    if (result.status === 'applied') {
      outbox.remove(entry);
      ops.push({ type: 'delete', key: entry.key });
      const previous = store.base(collection, recordId);
      // The record as our write left it, at the revision the server gave it: the next queued
      // mutation starts from there (a newer pulled base, if any, stays the base record).
      const baseData = applyMutation(entry.base, mutation);
      if (previous === undefined || previous.revision < result.revision) {
        const record: SyncRecord = Object.freeze({
          scope: mutation.scope,
          collection,
          id: recordId,
          data: baseData,
          revision: result.revision,
          hlc: mutation.hlc,
          deleted: mutation.op === 'delete',
        });
        store.setBase(record);
        ops.push({ type: 'set', key: baseKey(collection, recordId), value: record });
      }
      // A reset under way must not drop it: the server has it now, whatever the reset's pages,
      // read before this write was applied, said.
      replica.resetting.get(mutation.scope)?.add(recordKey(collection, recordId));
      const known = outcome.ownRevisions.get(mutation.scope) ?? 0;
      if (result.revision > known) outcome.ownRevisions.set(mutation.scope, result.revision);
      rebase(replica, collection, recordId, result.revision, baseData, ops);
    } else if (result.status === 'conflict') {
      const server = result.server;
      // Only a transaction member can be held back by a sibling; a patch of an absent or
      // deleted record conflicts on its own even at the same revision.
      const patchOfNothing = mutation.op === 'patch' && (server === null || server.deleted);
      const sibling =
        mutation.txId !== undefined &&
        !patchOfNothing &&
        (server === null ? mutation.baseRevision === 0 : server.revision === mutation.baseRevision);
      if (sibling) continue;
      adoptServerRecord(ctx, replica, collection, recordId, server, ops);
      const serverData = server === null || server.deleted ? null : server.data;
      const resolution = resolve(ctx, entry, server, serverData);
      if (resolution.action === 'manual') {
        outbox.remove(entry);
        ops.push({ type: 'delete', key: entry.key });
        const parked: ParkedConflict = {
          mutationId: mutation.id,
          collection,
          recordId,
          base: entry.base,
          local: applyMutation(entry.base, mutation),
          server,
        };
        const stored: StoredConflict = { conflict: parked, mutation };
        replica.conflicts.set(mutation.id, stored);
        ops.push({ type: 'set', key: KEYS.conflict + mutation.id, value: stored });
        outcome.parked.push(parked);
      } else if (
        resolution.action === 'server' ||
        jsonEqual(resolution.data, serverData) ||
        (resolution.data === null && serverData === null)
      ) {
        outbox.remove(entry);
        ops.push({ type: 'delete', key: entry.key });
        rebase(replica, collection, recordId, server?.revision ?? 0, serverData, ops);
      } else {
        const data = resolution.data === null ? undefined : deepFreeze(resolution.data);
        const rewrite: Mutation = {
          id: ctx.newId(),
          scope: mutation.scope,
          collection,
          recordId,
          op: data === undefined ? 'delete' : 'put',
          baseRevision: server?.revision ?? 0,
          hlc: ctx.clock.tick(),
        };
        if (data !== undefined) rewrite.data = data;
        if (mutation.txId !== undefined) rewrite.txId = mutation.txId;
        outbox.replace(entry, rewrite, serverData);
        ops.push({ type: 'set', key: entry.key, value: storedEntry(entry) });
        ops.push({ type: 'set', key: KEYS.hlc, value: ctx.clock.last });
      }
    } else {
      outbox.remove(entry);
      ops.push({ type: 'delete', key: entry.key });
      const letter: DeadLetter = {
        mutation,
        code: result.code,
        message: result.message,
        rejectedAt: ctx.env.now(),
      };
      replica.deadLetters.set(mutation.id, letter);
      ops.push({ type: 'set', key: KEYS.deadLetter + mutation.id, value: letter });
      outcome.rejected.push(letter);
    }
    if (store.recompute(collection, recordId)) ctx.notifier.changed(collection, recordId);
  }
  if (ops.length > 0) ops.push({ type: 'set', key: KEYS.hlc, value: ctx.clock.last });
  ctx.refreshCounts(replica);
  return outcome;
}

/** Points the record's next queued mutation at `revision` and persists it. */
function rebase(
  replica: Replica,
  collection: string,
  recordId: string,
  revision: number,
  base: JsonObject | null,
  ops: StorageWrite[],
): void {
  const next = replica.outbox.rebaseNext(collection, recordId, revision, base);
  if (next !== undefined) ops.push({ type: 'set', key: next.key, value: storedEntry(next) });
}

/** Makes the server's record of a conflict the base (unless the base is already newer). */
function adoptServerRecord(
  ctx: EngineContext,
  replica: Replica,
  collection: string,
  recordId: string,
  server: SyncRecord | null,
  ops: StorageWrite[],
): void {
  const previous = replica.store.base(collection, recordId);
  if (server === null) {
    // The server holds nothing (never created, or its tombstone was purged).
    if (previous !== undefined) {
      replica.store.deleteBase(collection, recordId);
      ops.push({ type: 'delete', key: baseKey(collection, recordId) });
    }
    return;
  }
  ctx.clock.receive(server.hlc);
  // The server has it: a reset under way keeps it (see the applied case).
  replica.resetting.get(server.scope)?.add(recordKey(collection, recordId));
  if (previous !== undefined && previous.revision >= server.revision) return;
  if (ctx.admitServerRecord !== null && !ctx.admitServerRecord(replica, server, ops)) return;
  const record = deepFreeze(server);
  replica.store.setBase(record);
  ops.push({ type: 'set', key: baseKey(collection, recordId), value: record });
}

function resolve(
  ctx: EngineContext,
  entry: OutboxEntry,
  server: SyncRecord | null,
  serverData: JsonObject | null,
): ConflictResolution {
  const mutation = entry.mutation;
  const context: ConflictContext = {
    collection: mutation.collection,
    id: mutation.recordId,
    base: entry.base,
    local: applyMutation(entry.base, mutation),
    server: serverData,
    localHlc: mutation.hlc,
    serverHlc: server?.hlc ?? '',
    serverRecord: server,
    mutation,
  };
  try {
    return ctx.resolverFor(mutation.collection)(context);
  } catch {
    // A throwing resolver must not lose the write or block the queue: let the app decide.
    return { action: 'manual' };
  }
}
