import type { ConflictResolver } from '../conflict/types.js';
import type { JsonObject } from '../protocol/types.js';
import type { InferSchemaOutput, StandardSchemaV1 } from './standard-schema.js';

/**
 * Per-collection settings. Declaring a collection also fixes its record type: the output type of
 * `schema`, or the type given to {@link collection}, else `JsonObject`.
 */
export interface CollectionOptions {
  /**
   * How conflicts on this collection are resolved.
   * @default the client's `conflict` option
   */
  conflict?: ConflictResolver;
  /**
   * A Standard Schema (zod, valibot, arktype, ...) every local write must pass: `put` and
   * `patch` throw a `SyncError` of kind `invalid`, code `schema`, naming the field, and nothing
   * is queued. Records from the server that fail it are not applied: they are reported by the
   * `invalid-record` event and `client.invalidRecords()`. The schema must validate
   * synchronously; its output (defaults applied, unknown keys stripped, as the library does) is
   * what is stored.
   * @default no check beyond "JSON object"
   */
  schema?: StandardSchemaV1;
}

/**
 * A collection declared with a plain TypeScript record type by {@link collection}. The
 * `~record` property exists only in the type system.
 */
export interface TypedCollectionOptions<Data extends object> extends CollectionOptions {
  /** Carries the record type; never set at runtime. */
  readonly '~record'?: Data;
}

/**
 * Declares a collection whose records have the TypeScript type `Data`, without a runtime
 * schema (use `{ schema }` for one).
 *
 * @example
 * ```ts
 * interface Todo { title: string; done: boolean }
 * const client = createSyncClient({ transport, collections: { todos: collection<Todo>() } });
 * await client.put('todos', 't1', { title: 'Buy milk', done: false }); // checked by tsc
 * ```
 */
export function collection<Data extends object>(
  options: CollectionOptions = {},
): TypedCollectionOptions<Data> {
  return { ...options };
}

/** Every collection a client declares, by name. */
export type CollectionDeclarations = Record<string, CollectionOptions>;

/** The record type of one declared collection. */
export type DeclaredRecord<Declaration> = Declaration extends {
  readonly schema: infer Schema extends StandardSchemaV1;
}
  ? OrJsonObject<InferSchemaOutput<Schema>>
  : Declaration extends { readonly '~record'?: infer Data }
    ? OrJsonObject<Exclude<Data, undefined>>
    : JsonObject;

/** `T`, or `JsonObject` where nothing more precise is known (`unknown` or `never`). */
export type OrJsonObject<T> = unknown extends T ? JsonObject : [T] extends [never] ? JsonObject : T;

/** The record type of each collection of a declaration, e.g. `{ todos: Todo }`. */
export type RecordsOf<Declarations extends CollectionDeclarations> = {
  [Name in keyof Declarations & string]: DeclaredRecord<Declarations[Name]>;
};

/** The collections of a client that declares none: any name, `JsonObject` records. */
export type UntypedCollections = Record<string, JsonObject>;

/**
 * A top-level field of a record type (for `orderBy`): any string for `JsonObject`.
 */
export type FieldOf<Data> = keyof Data & string;
