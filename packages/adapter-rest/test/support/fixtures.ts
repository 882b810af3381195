import { randomUUID } from 'node:crypto';
import type { Mutation, PushRequest, SyncRecord } from '@syncline/sync-core';

let counter = 0;

/** A valid HLC timestamp, increasing with each call. */
export function hlc(node = 'test'): string {
  counter++;
  return `${(Date.now() * 1).toString(16).padStart(12, '0')}:${counter.toString(16).padStart(4, '0').slice(-4)}:${node}`;
}

/** A valid `put` mutation. */
export function putMutation(
  scope: string,
  recordId: string,
  data: Record<string, string | number>,
): Mutation {
  return {
    id: randomUUID(),
    scope,
    collection: 'todos',
    recordId,
    op: 'put',
    data,
    baseRevision: 0,
    hlc: hlc(),
  };
}

/** A push request of `mutations`. */
export function pushRequest(
  mutations: Mutation[],
  sessionId = 'session-1',
  clientId = `client-${randomUUID().slice(0, 8)}`,
): PushRequest {
  return { clientId, sessionId, mutations };
}

/** A server record. */
export function record(scope: string, id: string, revision: number): SyncRecord {
  return {
    scope,
    collection: 'todos',
    id,
    data: { title: id },
    revision,
    hlc: hlc(),
    deleted: false,
  };
}
