import { SyncError } from '../errors/sync-error.js';
import type { JsonObject, SyncRecord } from '../protocol/types.js';
import { checkWithSchema, type RecordIssue, schemaError } from '../schema/check-schema.js';
import type { CollectionDeclarations } from '../schema/collections.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import { checkTarget, freezeData } from './write-input.js';

/**
 * What the app declared about its collections, applied to every write on its way in, to the
 * names the app reads, and to every record from the server: undeclared names are refused (when
 * any are declared), and data must pass the collection's schema. One per client; it holds no state beyond the declaration.
 */
export class CollectionGuard {
  readonly #declared: CollectionDeclarations | undefined;
  /** `true` when at least one collection has a schema (otherwise server records skip the check). */
  readonly hasSchemas: boolean;

  /** @param declarations - the client's `collections` option (read as the engine reads it) */
  constructor(declarations: CollectionDeclarations | undefined) {
    this.#declared = declarations;
    this.hasSchemas = Object.values(declarations ?? {}).some((options) => options?.schema);
  }

  /**
   * Checks the collection name (declared, when the client declares any) and the record id.
   * @throws SyncError `invalid`
   */
  target(collection: string, id: string): void {
    checkTarget(collection, id);
    this.known(collection);
  }

  /**
   * Checks that the collection is declared, when the client declares any (reads check this
   * too: a typo must not read as an empty collection).
   * @throws SyncError `invalid`, code `unknown_collection`
   */
  known(collection: string): void {
    const declared = this.#declared;
    if (declared !== undefined && !Object.hasOwn(declared, collection)) {
      const known = JSON.stringify(Object.keys(declared));
      throw new SyncError(
        'invalid',
        `Unknown collection ${JSON.stringify(collection)} (declared: ${known})`,
        { code: 'unknown_collection', details: { collection } },
      );
    }
  }

  /** The schema of a declared collection (`undefined` for one without, or undeclared). */
  #schema(collection: string): StandardSchemaV1 | undefined {
    return this.#declared?.[collection]?.schema;
  }

  /**
   * The frozen data of a `put`: JSON-checked, then (with a schema) the schema's output.
   * @throws SyncError `invalid`
   */
  put(collection: string, id: string, data: unknown): JsonObject {
    this.target(collection, id);
    const schema = this.#schema(collection);
    if (schema === undefined) return freezeData(data);
    const check = checkWithSchema(schema, data);
    if (check.issues) throw schemaError(collection, id, check.issues);
    return freezeData(check.value);
  }

  /**
   * The frozen fields of a `patch`. With a schema, `current` (what the record looks like now)
   * merged with `fields` must pass it; the fields then take the schema's output values.
   * @throws SyncError `invalid`
   */
  patch(
    collection: string,
    id: string,
    fields: unknown,
    current: Readonly<JsonObject> | undefined,
  ): JsonObject {
    this.target(collection, id);
    const frozen = freezeData(fields);
    const schema = this.#schema(collection);
    if (schema === undefined) return frozen;
    const check = checkWithSchema(schema, { ...current, ...frozen });
    if (check.issues) throw schemaError(collection, id, check.issues);
    const output = check.value as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys(frozen)) {
      if (Object.hasOwn(output, key)) picked[key] = output[key];
    }
    return freezeData(picked);
  }

  /** What the schema finds wrong with a record from the server, or `null` if it may be applied. */
  serverRecordIssues(record: SyncRecord): readonly RecordIssue[] | null {
    // A tombstone has nothing to check: its data is null (both callers, the pull page and a push
    // answer's conflict, pass records the protocol's `recordAt` checked: deleted ⇔ data null).
    if (record.deleted) return null;
    const schema = this.#schema(record.collection);
    if (schema === undefined) return null;
    try {
      return checkWithSchema(schema, record.data).issues ?? null;
    } catch (error) {
      // An async schema was already refused at the first local write; here it must not stop a pull.
      return [{ path: [], message: String(error) }];
    }
  }
}
