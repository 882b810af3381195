import { SyncError } from '../errors/sync-error.js';
import type { SyncRecord } from '../protocol/types.js';
import { at, formatPath, ROOT } from '../protocol/validate-json.js';
import type { StandardSchemaPathSegment, StandardSchemaV1 } from './standard-schema.js';

/** One problem a collection's schema found in a record, with the path of the field. */
export interface RecordIssue {
  /** The field's path from the record's top level, e.g. `['tags', 0]`; empty for the record itself. */
  readonly path: ReadonlyArray<string | number>;
  /** The schema library's message. */
  readonly message: string;
}

/** What {@link checkWithSchema} found: the schema's output `value`, or the `issues`. */
export type SchemaCheck =
  | { readonly value: unknown; readonly issues?: undefined }
  | { readonly issues: readonly RecordIssue[] };

/** A Standard Schema path segment (a key, or `{ key }`) as a record path's key. */
function keyOf(segment: PropertyKey | StandardSchemaPathSegment): string | number {
  const key = typeof segment === 'object' ? segment.key : segment;
  return typeof key === 'number' ? key : String(key);
}

/**
 * Runs a Standard Schema on `value`. A schema that answers with a `Promise` (an async
 * refinement) cannot guard a write that must be checked before `put` returns, so it is a
 * setup mistake.
 *
 * @throws SyncError `invalid` (code `async_schema`) when the schema answers asynchronously
 */
export function checkWithSchema(schema: StandardSchemaV1, value: unknown): SchemaCheck {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    result.catch(() => {}); // its outcome is not awaited; do not leave it unhandled
    throw new SyncError('invalid', 'Collection schemas must be synchronous (no async checks)', {
      code: 'async_schema',
    });
  }
  if (result.issues === undefined) return result; // the schema's own success result
  return {
    issues: result.issues.map(({ path, message }) => ({ path: path?.map(keyOf) ?? [], message })),
  };
}

/**
 * The error of a local write that fails its collection's schema: kind `invalid`, code
 * `schema`, `details.issues` with each field's path. The message has one part per issue, each
 * field's path written as the data checks write theirs: `$.title: Expected string, received
 * number`, `$.tags[0]: ...`, `$` for the record itself.
 */
export function schemaError(
  collection: string,
  id: string,
  issues: readonly RecordIssue[],
): SyncError {
  const described = issues.map(
    ({ path, message }) => `${formatPath(path.reduce(at, ROOT))}: ${message}`,
  );
  return new SyncError('invalid', `${collection}/${id} fails its schema: ${described.join('; ')}`, {
    code: 'schema',
    details: { collection, id, issues },
  });
}

/**
 * A record from the server that failed its collection's schema. It was not applied: the view
 * keeps the previous version (if any) until a valid version or a delete arrives.
 */
export interface InvalidRecord {
  /** The collection. */
  collection: string;
  /** The record id. */
  id: string;
  /** The record as the server sent it. */
  record: SyncRecord;
  /** What the schema found, each with the field's path. */
  issues: readonly RecordIssue[];
}
