import type { JsonObject, Mutation, SyncRecord } from '../protocol/types.js';

/**
 * Everything a resolver sees about one conflict: the server refused a local mutation because
 * the record moved on since the client last saw it.
 *
 * `null` data means "deleted or absent" on that side.
 */
export interface ConflictContext {
  /** The collection. */
  collection: string;
  /** The record id. */
  id: string;
  /** The record's data at the revision the local edit started from (`null` if new or deleted). */
  base: JsonObject | null;
  /** What the local edit wants the record to be (`null` for a local delete). */
  local: JsonObject | null;
  /** The server's current data (`null` if deleted or absent). */
  server: JsonObject | null;
  /** HLC of the local write. Compare HLCs with `compareHlc`. */
  localHlc: string;
  /** HLC of the server's current version (`''` if the server has no record). */
  serverHlc: string;
  /** The server's record as received (`null` if absent). */
  serverRecord: SyncRecord | null;
  /** The local mutation that conflicted. */
  mutation: Mutation;
}

/**
 * What to do about a conflict:
 * - `server`: drop the local change, keep the server's record.
 * - `write`: write `data` on top of the server's revision (`null` deletes the record).
 * - `manual`: park the mutation; the app resolves it later with `client.resolveConflict`.
 */
export type ConflictResolution =
  | { action: 'server' }
  | { action: 'write'; data: JsonObject | null }
  | { action: 'manual' };

/**
 * Decides a conflict. Must be deterministic and free of side effects: the simulator replays
 * resolvers and checks that the same inputs give the same output.
 */
export type ConflictResolver = (context: ConflictContext) => ConflictResolution;

/** A conflict parked by the `manual` resolver, waiting for `client.resolveConflict`. */
export interface ParkedConflict {
  /** The id of the local mutation that conflicted. */
  mutationId: string;
  /** The collection. */
  collection: string;
  /** The record id. */
  recordId: string;
  /** Data the local edit started from. */
  base: JsonObject | null;
  /** What the local edit wanted. */
  local: JsonObject | null;
  /** The server's record (`null` if absent). */
  server: SyncRecord | null;
}

/** Keep the server's record; the local edit is dropped. */
export interface KeepServerDecision {
  /** Discriminant. */
  action: 'server';
}

/** Write `data` on top of the server's record (`null` deletes it). */
export interface WriteDecision {
  /** Discriminant. */
  action: 'write';
  /** The record's new data, or `null` to delete it. */
  data: JsonObject | null;
}

/** How the app settles a parked conflict. */
export type ConflictDecision = KeepServerDecision | WriteDecision;
