import type { JsonObject } from '@syncline/sync-core';

/**
 * The record type of each collection, by name. The hooks are generic over it and default to
 * plain JSON objects, so a typed client's collection map drops in without changing them:
 * `useRecord<MyCollections, 'todos'>('todos', id)`.
 *
 * @example
 * ```ts
 * interface MyCollections {
 *   todos: { title: string; done: boolean };
 *   notes: { body: string };
 * }
 * ```
 */
export type CollectionTypes = { [collection: string]: JsonObject };

/** The map used when the app names none: every collection holds plain JSON objects. */
export type AnyCollections = Record<string, JsonObject>;

/** A record of a {@link useCollection} result: its id and its (frozen) data. */
export interface TypedViewRecord<T> {
  /** The record id. */
  readonly id: string;
  /** The record's current data in the optimistic view. */
  readonly data: Readonly<T>;
}
