/**
 * A syncline adapter for a Firestore-style document database: the SyncTransport of
 * docs/custom-adapter.md. Every rule it keeps is checked by the conformance kit
 * (`test/conformance.test.ts`).
 */
import {
  type JsonObject,
  type Mutation,
  type MutationResult,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  type SessionSource,
  SyncError,
  type SyncRecord,
  type SyncTransport,
} from '@syncline/sync-core';
import type { Cursor, Doc, DocumentDb, Transaction } from './document-db.js';

/** Options of {@link documentTransport}. */
export interface DocumentTransportOptions {
  db: DocumentDb;
  /** Who is signed in; the user's records live under `users/<uid>/`. */
  session: SessionSource;
}

/** A SyncTransport over the document database. */
export function documentTransport({ db, session }: DocumentTransportOptions): SyncTransport {
  /** The signed-in user, who may use only the scope `user:<uid>`. */
  const userOf = (scope: string): string => {
    const current = session.current();
    if (current === null) throw new SyncError('auth', 'signed out', { status: 401 });
    if (scope !== `user:${current.userId}`) {
      throw new SyncError('auth', `no access to ${scope}`, { status: 403, code: 'forbidden' });
    }
    return current.userId;
  };

  return {
    session,

    async push(request: PushRequest): Promise<PushResponse> {
      const results = new Map<string, MutationResult>();
      // Mutations sharing a txId commit in one transaction; the others one by one.
      for (const group of groups(request.mutations)) {
        const settled = await db.runTransaction((tx) => pushGroup(tx, group, userOf));
        for (const result of settled) results.set(result.id, result);
      }
      return { results: request.mutations.map((m) => results.get(m.id) as MutationResult) };
    },

    async pull(request: PullRequest): Promise<PullResponse> {
      const uid = userOf(request.scope);
      const limit = Math.max(1, request.limit ?? 500);
      const cursor = decodeCursor(request.checkpoint);
      if (cursor === undefined) {
        return { changes: [], checkpoint: '0:', hasMore: false, resetRequired: true };
      }
      const docs = await db.changedAfter(`users/${uid}/records/`, cursor, limit + 1);
      const page = docs.slice(0, limit);
      const last = page.at(-1);
      return {
        changes: page.map((doc) => toRecord(request.scope, doc)),
        checkpoint: last ? `${last.commit}:${last.path}` : (request.checkpoint ?? '0:'),
        hasMore: docs.length > limit,
      };
    },
  };
}

function pushGroup(
  tx: Transaction,
  group: Mutation[],
  userOf: (scope: string) => string,
): MutationResult[] {
  const results: MutationResult[] = [];
  const writes: Array<() => void> = [];
  for (const m of group) {
    let uid: string;
    try {
      uid = userOf(m.scope);
    } catch (error) {
      if ((error as SyncError).status === 401) throw error;
      results.push({
        id: m.id,
        status: 'rejected',
        code: 'forbidden',
        message: `no access to ${m.scope}`,
      });
      continue;
    }
    // Idempotency: the outcome of every mutation id is stored with its effects.
    const stored = tx.get(`users/${uid}/mutations/${m.id}`);
    if (stored !== undefined) {
      results.push(stored.fields.outcome as MutationResult);
      continue;
    }
    const path = `users/${uid}/records/${m.collection}/${m.recordId}`;
    const doc = tx.get(path);
    const current = doc?.version ?? 0;
    if (
      m.baseRevision !== current ||
      (m.op === 'patch' && (doc === undefined || doc.fields.deleted))
    ) {
      results.push({ id: m.id, status: 'conflict', server: doc ? toRecord(m.scope, doc) : null });
      continue;
    }
    const before = (doc?.fields.data ?? {}) as JsonObject;
    const data =
      m.op === 'delete' ? null : m.op === 'patch' ? { ...before, ...m.data } : (m.data ?? {});
    const outcome: MutationResult = { id: m.id, status: 'applied', revision: current + 1 };
    results.push(outcome);
    writes.push(() => {
      tx.set(path, {
        collection: m.collection,
        id: m.recordId,
        data,
        deleted: m.op === 'delete',
        hlc: m.hlc,
      });
      tx.set(`users/${uid}/mutations/${m.id}`, { outcome });
    });
  }
  // A transaction with one member that did not apply applies none of them.
  if (group.length > 1 && results.some((r) => r.status !== 'applied')) {
    return results.map((r, i) => {
      if (r.status !== 'applied') return r;
      const m = group[i] as Mutation;
      return { id: r.id, status: 'conflict', ...siblingServer(tx, m, userOf) };
    });
  }
  for (const write of writes) write();
  return results;
}

/** A held-back transaction member: a conflict at its own base revision (re-sent unchanged). */
function siblingServer(
  tx: Transaction,
  m: Mutation,
  userOf: (scope: string) => string,
): { server: SyncRecord | null } {
  const doc = tx.get(`users/${userOf(m.scope)}/records/${m.collection}/${m.recordId}`);
  return { server: doc ? toRecord(m.scope, doc) : null };
}

function toRecord(scope: string, doc: Doc): SyncRecord {
  const { collection, id, data, deleted, hlc } = doc.fields as {
    collection: string;
    id: string;
    data: JsonObject | null;
    deleted: boolean;
    hlc: string;
  };
  return {
    scope,
    collection,
    id,
    data: deleted ? null : data,
    revision: doc.version,
    hlc,
    deleted,
  };
}

function groups(mutations: readonly Mutation[]): Mutation[][] {
  const byTx = new Map<string, Mutation[]>();
  const out: Mutation[][] = [];
  for (const m of mutations) {
    if (m.txId === undefined) {
      out.push([m]);
      continue;
    }
    let group = byTx.get(m.txId);
    if (group === undefined) {
      group = [];
      byTx.set(m.txId, group);
      out.push(group);
    }
    group.push(m);
  }
  return out;
}

/** `<commit>:<path>`; `null` is the start; `undefined` means "not one of ours". */
function decodeCursor(checkpoint: string | null): Cursor | null | undefined {
  if (checkpoint === null || checkpoint === '0:') return null;
  const match = /^(\d+):(.+)$/.exec(checkpoint);
  return match ? { commit: Number(match[1]), path: match[2] as string } : undefined;
}
