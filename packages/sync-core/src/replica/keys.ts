/*
 * The storage key layout of a data namespace. Every user has a namespace `user:<userId>`; data
 * written while signed out lives in `local`; the installation's client id lives in `device`
 * (see ids/client-id.ts). Inside a data namespace:
 *
 *   r/<collection>/<id>   confirmed base record (SyncRecord, tombstones included)
 *   o/<seq, 12 digits>    outbox entry { seq, mutation, base }, in queue order
 *   c/<scope>             pull checkpoint of the scope
 *   d/<mutationId>        dead letter (DeadLetter)
 *   x/<mutationId>        parked conflict { conflict: ParkedConflict, mutation }
 *   z/<scope>             a reset of the scope is in progress (see replication/pull-page.ts)
 *   q/<collection>/<id>   a server record that failed its collection's schema (InvalidRecord)
 *   m/hlc                 an HLC issued (with push answers); on load the clock resumes after the
 *                         latest HLC found anywhere in the namespace
 *   t/<requestId>         a follower tab's write landed (tabs/call-markers.ts)
 *
 * Collection names cannot contain `/` (see isCollection), so `r/` and `q/` keys are unambiguous.
 * Only replica/ builds these keys: the operations of `ReplicaBatch` (replica/batch.ts) write
 * them, `loadReplica` (replica/load.ts) reads them back.
 */

/** Key prefixes of the data namespaces. */
export const KEYS = {
  record: 'r/',
  outbox: 'o/',
  checkpoint: 'c/',
  deadLetter: 'd/',
  conflict: 'x/',
  hlc: 'm/hlc',
  reset: 'z/',
  invalid: 'q/',
  callMarker: 't/',
} as const;

/** The namespace of signed-out data. */
export const LOCAL_NAMESPACE = 'local';

/** The scope local (never pushed) mutations carry until a user claims them. */
export const LOCAL_SCOPE = 'local:unclaimed';

/** The namespace of a user's data. */
export function userNamespace(userId: string): string {
  return `user:${userId}`;
}

/**
 * Storage key of a base record. Memory and file storage file the record under its own `id`
 * (see storage/entry-map.ts), so they keep no copy of this key: it lives as long as the write.
 */
export function baseKey(collection: string, id: string): string {
  return `${KEYS.record}${collection}/${id}`;
}

/** Storage key of a quarantined server record (see `InvalidRecord`). */
export function invalidKey(collection: string, id: string): string {
  return `${KEYS.invalid}${collection}/${id}`;
}

/** The storage key of outbox position `seq` (fixed width so keys sort in queue order). */
export function outboxKey(seq: number): string {
  return KEYS.outbox + String(seq).padStart(12, '0');
}
