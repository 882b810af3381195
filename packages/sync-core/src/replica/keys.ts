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

/*
 * The key prefixes of a data namespace, one constant each (a bundler writes their text where
 * they are used).
 */
/** Prefix of a confirmed base record: `r/<collection>/<id>`. */
export const RECORD_PREFIX = 'r/';
/** Prefix of an outbox entry: `o/<seq, 12 digits>`. */
export const OUTBOX_PREFIX = 'o/';
/** Prefix of a scope's pull checkpoint: `c/<scope>`. */
export const CHECKPOINT_PREFIX = 'c/';
/** Prefix of a dead letter: `d/<mutationId>`. */
export const DEAD_LETTER_PREFIX = 'd/';
/** Prefix of a parked conflict: `x/<mutationId>`. */
export const CONFLICT_PREFIX = 'x/';
/** The key of the latest HLC issued. */
export const HLC_KEY = 'm/hlc';
/** Prefix of a scope's reset in progress: `z/<scope>`. */
export const RESET_PREFIX = 'z/';
/** Prefix of a quarantined server record: `q/<collection>/<id>`. */
export const INVALID_PREFIX = 'q/';
/** Prefix of a follower tab's landed write: `t/<requestId>`. */
export const CALL_MARKER_PREFIX = 't/';

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
  return `${RECORD_PREFIX}${collection}/${id}`;
}

/** Storage key of a quarantined server record (see `InvalidRecord`). */
export function invalidKey(collection: string, id: string): string {
  return `${INVALID_PREFIX}${collection}/${id}`;
}

/** The storage key of outbox position `seq` (fixed width so keys sort in queue order). */
export function outboxKey(seq: number): string {
  return OUTBOX_PREFIX + String(seq).padStart(12, '0');
}
