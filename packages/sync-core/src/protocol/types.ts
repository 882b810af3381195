/**
 * Wire types shared by the client, every adapter and the reference server.
 * See DESIGN.md §2 and §5. Everything here is plain JSON.
 *
 * @module
 */

/** A JSON value, as it travels on the wire and is stored. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object: the shape of a record's `data`. */
export type JsonObject = { [key: string]: Json };

/**
 * A record as the server holds it. A delete is a tombstone (`deleted: true, data: null`),
 * never a missing row.
 */
export interface SyncRecord {
  /** The scope the record belongs to, e.g. `user:42` or `workspace:7`. */
  scope: string;
  /** The collection (table) name. */
  collection: string;
  /** The record id, unique within scope + collection. */
  id: string;
  /** The record's fields, or `null` for a tombstone. */
  data: JsonObject | null;
  /** The scope's version at the record's last accepted write. Always > 0 on the server. */
  revision: number;
  /** HLC timestamp of the last accepted write (see `clock`). */
  hlc: string;
  /** `true` for a tombstone. */
  deleted: boolean;
}

/** What a mutation does to its record. */
export type MutationOp = 'put' | 'patch' | 'delete';

/**
 * One write, as the client queues and pushes it. `id` is globally unique (UUIDv7) and is the
 * idempotency key: the server stores the outcome of every mutation id it processed and answers a
 * re-sent id with that stored outcome.
 */
export interface Mutation {
  /** Globally unique id (UUIDv7); the idempotency key. */
  id: string;
  /** The scope the record lives in. */
  scope: string;
  /** The collection. */
  collection: string;
  /** The record id. */
  recordId: string;
  /** `put` replaces `data`; `patch` merges top-level fields; `delete` leaves a tombstone. */
  op: MutationOp;
  /** Full data for `put`, the changed top-level fields for `patch`, absent for `delete`. */
  data?: JsonObject;
  /** The record revision the client last saw; 0 means "the record is new to me". */
  baseRevision: number;
  /** HLC timestamp of the write. */
  hlc: string;
  /** Mutations that share a `txId` are applied atomically: all or none. */
  txId?: string;
}

/** Body of `POST /v1/push`. */
export interface PushRequest {
  /** Identifies the installation (stable across reloads and re-logins). */
  clientId: string;
  /** Identifies the auth session. */
  sessionId: string;
  /** The mutations, in the order they must be applied. */
  mutations: Mutation[];
}

/** The mutation was applied; the record now has `revision`. */
export interface AppliedResult {
  /** The mutation id. */
  id: string;
  /** Discriminant. */
  status: 'applied';
  /** The record's new revision. */
  revision: number;
}

/**
 * The mutation was not applied because `baseRevision` is not the record's current revision.
 * `server` is the server's current record (a tombstone for a deleted one), or `null` when the
 * server holds no such record at all (never created, or its tombstone was purged).
 *
 * A mutation of a `txId` group that did not conflict itself, but was not applied because
 * another member of the group conflicted, also gets this status, with `server.revision` equal to
 * its own `baseRevision` (or `server: null` and `baseRevision: 0`): the client re-sends it
 * unchanged once the conflicting member is resolved.
 */
export interface ConflictResult {
  /** The mutation id. */
  id: string;
  /** Discriminant. */
  status: 'conflict';
  /** The server's current record, or `null` if it has none. */
  server: SyncRecord | null;
}

/** The mutation was rejected permanently (it will never apply); the client dead-letters it. */
export interface RejectedResult {
  /** The mutation id. */
  id: string;
  /** Discriminant. */
  status: 'rejected';
  /** Machine-readable reason, e.g. `invalid`, `forbidden`, `tx_rejected`. */
  code: string;
  /** Human-readable reason. */
  message: string;
}

/** The outcome of one mutation. */
export type MutationResult = AppliedResult | ConflictResult | RejectedResult;

/** Answer to `POST /v1/push`: one result per mutation, in request order. */
export interface PushResponse {
  /** One result per pushed mutation, in the same order. */
  results: MutationResult[];
}

/** Query of `GET /v1/pull`. */
export interface PullRequest {
  /** The scope to pull. */
  scope: string;
  /** The checkpoint from the previous page, or `null` for a first pull. */
  checkpoint: string | null;
  /** Maximum number of changes in the page. */
  limit?: number;
}

/** Answer to `GET /v1/pull`. */
export interface PullResponse {
  /** Records changed after the request's checkpoint (tombstones included), in version order. */
  changes: SyncRecord[];
  /** Opaque checkpoint covering `changes`; store it atomically with them. */
  checkpoint: string;
  /** More changes are waiting: pull again with the new checkpoint. */
  hasMore: boolean;
  /**
   * The request's checkpoint predates the tombstone purge horizon (or was never issued):
   * the client must drop its copy of the scope and pull again from `null`.
   */
  resetRequired?: boolean;
}

/**
 * A realtime hint that a scope changed. Only a hint: correctness never depends on it.
 *
 * A plain poke (`scope`, `version`, `originClientId?`) makes the client pull. A poke may also
 * carry the changes themselves, as a pull page would: `changes` are exactly the scope's
 * changes after `fromCheckpoint` through `checkpoint` (the three fields come together or not
 * at all). A client whose stored checkpoint equals `fromCheckpoint` (compared as opaque
 * strings) applies them as that pull page and stores `checkpoint`, without a request; any
 * other client pulls as for a plain poke.
 */
export interface Poke {
  /** The scope that changed. */
  scope: string;
  /** The scope's version after the change. */
  version: number;
  /** The client whose push caused the change, if known (and the only origin of it). */
  originClientId?: string;
  /** The checkpoint the `changes` continue from (exclusive), as a pull would have issued it. */
  fromCheckpoint?: string;
  /** The checkpoint covering `changes`: what a pull from `fromCheckpoint` would have returned. */
  checkpoint?: string;
  /** Every change after `fromCheckpoint` through `checkpoint`, in version order (may be empty). */
  changes?: SyncRecord[];
}

/** A device session of a user (DESIGN §2). */
export interface SessionInfo {
  /** The user. */
  userId: string;
  /** The auth session. */
  sessionId: string;
  /** The installation. */
  clientId: string;
  /** A human label, e.g. "Firefox on Linux". */
  label?: string;
  /** The platform, e.g. "web", "ios", "electron". */
  platform?: string;
  /** Last heartbeat, epoch milliseconds (server clock). */
  lastSeenAt: number;
  /** When the session was revoked, epoch milliseconds. */
  revokedAt?: number;
  /** Not revoked and seen within the server's active window (default 24 h). */
  active: boolean;
}

/** Every session of the sender's user except the sending one (the default). */
export interface OtherSessionsTarget {
  /** Discriminant. */
  type: 'otherSessions';
}

/** The listed sessions of the sender's user. */
export interface SessionsTarget {
  /** Discriminant. */
  type: 'sessions';
  /** Session ids. */
  ids: string[];
}

/** Every member of the delivery's scope (e.g. a workspace). */
export interface ScopeMembersTarget {
  /** Discriminant. */
  type: 'scopeMembers';
}

/** Who must receive a delivery. */
export type DeliveryTarget = OtherSessionsTarget | SessionsTarget | ScopeMembersTarget;

/** An item delivered to sessions, with acknowledgement and expiry (DESIGN §2). */
export interface Delivery {
  /** Unique id (UUIDv7). */
  id: string;
  /** Scope it belongs to. */
  scope: string;
  /** App-defined kind. */
  kind: string;
  /** App payload. */
  payload?: Json;
  /** sha256 of an attached asset. */
  assetHash?: string;
  /** The session that sent it; never receives it. */
  originSessionId: string;
  /** Who receives it. */
  target: DeliveryTarget;
  /** Epoch milliseconds (server clock). */
  createdAt: number;
  /** Epoch milliseconds (server clock). */
  expiresAt: number;
  /** When every target acknowledged it. */
  completedAt?: number;
  /** The session ids that must acknowledge (fixed at creation); only in answers to the sender's user. */
  targetSessionIds?: string[];
  /** `true` once the TTL passed before completion. */
  expired?: true;
}

/** Error body of every non-2xx answer: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  /** The error. */
  error: {
    /** Machine-readable code, e.g. `invalid`, `unauthorized`, `too_large`. */
    code: string;
    /** Human-readable message; never SQL or a stack trace. */
    message: string;
    /** Optional structured details (e.g. the JSON path that failed validation). */
    details?: Json;
  };
}
