import type { JsonObject } from '@syncline/sync-core';

/** A todo. */
export interface Todo extends JsonObject {
  title: string;
  done: boolean;
  createdAt: number;
}

/** A note. */
export interface Note extends JsonObject {
  title: string;
  body: string;
  updatedAt: number;
}

/** The app's collections and their record types, for the hooks. */
export interface AppCollections {
  [collection: string]: JsonObject;
  todos: Todo;
  notes: Note;
}

/** A new record id: time-ordered, unique enough for one user's devices. */
export function newId(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}
