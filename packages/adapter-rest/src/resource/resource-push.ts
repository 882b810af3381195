/**
 * Push against a resource API: one request per mutation (`PUT` or `DELETE` with
 * `baseRevision`), the API's 409 mapped to syncline's conflict with the server's copy, so the
 * client's resolvers decide as with the syncline protocol.
 *
 * What holds without server-side idempotency (the API does not store mutation ids):
 * - a `put` whose answer was lost is sent again with the same `baseRevision`; the API answers
 *   409 because the first one moved the revision on. When the server's copy then equals what
 *   was sent, the write is taken as applied (it was: nothing else could have produced exactly
 *   that copy on that revision, unless another device wrote the very same data, which is then
 *   equally fine to keep). No write is doubled and none is lost.
 * - a `delete` whose answer was lost answers 409 with a tombstone (or 404): taken as applied.
 * - a `patch` reads the item, merges the patched fields and writes the whole body with the
 *   revision it read; a lost answer is recognised like a put's.
 * What does not hold: mutations sharing a `txId` are not atomic (each record is its own
 * request), and a write whose answer was lost, followed by another device's write before the
 * retry, surfaces as a conflict that the resolver handles, where the syncline protocol would
 * have answered the stored outcome.
 *
 * @module
 */
import type {
  JsonObject,
  Mutation,
  MutationResult,
  PushRequest,
  PushResponse,
  SyncRecord,
} from '@syncline/sync-core';
import { jsonEqual } from '@syncline/sync-core/protocol';
import type { ResolvedResource } from './options.js';
import type { ResourceApi, WriteAnswer } from './resource-api.js';

/** Options of {@link pushToResources}. */
export interface ResourcePushOptions {
  api: ResourceApi;
  /** The signed-in user's scope: the only one the API serves. */
  scope: string;
  resource: (collection: string) => ResolvedResource | undefined;
  signal?: AbortSignal | undefined;
}

/** Pushes each mutation in order; one result per mutation. */
export async function pushToResources(
  request: PushRequest,
  options: ResourcePushOptions,
): Promise<PushResponse> {
  const results: MutationResult[] = [];
  for (const mutation of request.mutations) {
    results.push(await pushOne(mutation, options));
  }
  return { results };
}

async function pushOne(mutation: Mutation, options: ResourcePushOptions): Promise<MutationResult> {
  const { api, signal } = options;
  if (mutation.scope !== options.scope) {
    return {
      id: mutation.id,
      status: 'rejected',
      code: 'forbidden',
      message: `a resource API serves only the signed-in user's scope, not ${mutation.scope}`,
    };
  }
  const resource = options.resource(mutation.collection);
  if (resource === undefined) {
    return {
      id: mutation.id,
      status: 'rejected',
      code: 'invalid',
      message: `no resource is configured for collection ${mutation.collection}`,
    };
  }
  const scope = mutation.scope;
  const toRecord = (item: JsonObject): SyncRecord => api.toRecord(resource, scope, item);
  if (mutation.op === 'delete') {
    const answer = await api.delete(resource, mutation.recordId, mutation.baseRevision, signal);
    return settle(mutation, answer, toRecord, (server) => server.deleted);
  }
  let data = mutation.data ?? {};
  if (mutation.op === 'patch') {
    const current = await api.get(resource, mutation.recordId, signal);
    const record = current === null ? null : toRecord(current);
    if (record === null || record.deleted || record.revision !== mutation.baseRevision) {
      // Already applied (a lost answer) when the server holds the patch's fields; else a conflict.
      if (record !== null && !record.deleted && holdsFields(record.data, data)) {
        return { id: mutation.id, status: 'applied', revision: record.revision };
      }
      return { id: mutation.id, status: 'conflict', server: record };
    }
    data = { ...(record.data ?? {}), ...data };
  }
  const sent = data;
  const answer = await api.put(resource, mutation.recordId, sent, mutation.baseRevision, signal);
  return settle(
    mutation,
    answer,
    toRecord,
    (server) => !server.deleted && sameData(server.data, sent, resource),
  );
}

function settle(
  mutation: Mutation,
  answer: WriteAnswer,
  toRecord: (item: JsonObject) => SyncRecord,
  alreadyApplied: (server: SyncRecord) => boolean,
): MutationResult {
  if (answer.status === 'applied')
    return { id: mutation.id, status: 'applied', revision: answer.revision };
  const server = answer.server === null ? null : toRecord(answer.server);
  if (server === null) {
    // A delete of a record the API no longer has: what the delete wanted.
    if (mutation.op === 'delete')
      return { id: mutation.id, status: 'applied', revision: mutation.baseRevision + 1 };
    return { id: mutation.id, status: 'conflict', server: null };
  }
  if (alreadyApplied(server))
    return { id: mutation.id, status: 'applied', revision: server.revision };
  return { id: mutation.id, status: 'conflict', server };
}

function sameData(
  server: JsonObject | null,
  sent: JsonObject,
  resource: ResolvedResource,
): boolean {
  if (server === null) return false;
  // Compare what the API would hold: the sent body seen back through the resource's mapping.
  return jsonEqual(server, resource.toData({ ...resource.toBody(sent) }));
}

function holdsFields(data: JsonObject | null, fields: JsonObject): boolean {
  if (data === null) return false;
  return Object.entries(fields).every(([key, value]) => jsonEqual(data[key], value));
}
