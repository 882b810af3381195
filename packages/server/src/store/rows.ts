/**
 * Row shapes and their conversion to wire types. Drivers return bigint columns as strings
 * (node-postgres) or numbers (PGlite); both become numbers, which stay exact far below 2^53.
 *
 * @module
 */
import type { JsonObject, SyncRecord } from '@syncline/sync-core/protocol';

/** A row of `syncline.records`. */
export interface RecordRow {
  scope: string;
  collection: string;
  id: string;
  data: JsonObject | null;
  revision: string | number | bigint;
  hlc: string;
  deleted: boolean;
}

/** The record columns, in the order of {@link RecordRow}. */
export const RECORD_COLUMNS = 'scope, collection, id, data, revision, hlc, deleted';

/** Converts a bigint column value to a number. */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Converts a record row to the wire shape. */
export function toRecord(row: RecordRow): SyncRecord {
  return {
    scope: row.scope,
    collection: row.collection,
    id: row.id,
    data: row.deleted ? null : (row.data ?? {}),
    revision: toNumber(row.revision),
    hlc: row.hlc,
    deleted: row.deleted,
  };
}

/** The key of a record inside one push. */
export function recordKey(scope: string, collection: string, id: string): string {
  return JSON.stringify([scope, collection, id]);
}

/** A record as a push sends it to be written: its columns and its wire JSON (`push-sql.ts`). */
export interface RecordWrite {
  scope: string;
  collection: string;
  id: string;
  revision: number;
  hlc: string;
  deleted: boolean;
  /** The record exactly as a pull page carries it (a tombstone's data `null`). */
  wire: string;
}

/** The write of `record`, with its wire JSON in the key order of a pull page. */
export function recordWrite(record: SyncRecord): RecordWrite {
  const { scope, collection, id, revision, hlc, deleted } = record;
  const data = deleted ? null : (record.data ?? {});
  const wire = JSON.stringify({ scope, collection, id, data, revision, hlc, deleted });
  return { scope, collection, id, revision, hlc, deleted, wire };
}
