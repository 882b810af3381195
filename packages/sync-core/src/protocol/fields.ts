/**
 * The one reader of a protocol object's fields, used by every validator (requests, answers,
 * session targeting): each says which fields an object may have and what each must hold, and
 * the reader words every failure the same way, with the JSON path of the field.
 *
 * Internal: the public validators live in `validate.ts`, `validate-requests.ts` and
 * `validate-sessions.ts`.
 *
 * @module
 */
import { at, fail, isPlainObject, type Path } from './validate-json.js';

/** The own fields of one object, read once, with the unknown ones refused. */
export class Fields {
  readonly #object: Record<string, unknown>;
  /** Where the object is, for error messages. */
  readonly path: Path;

  /**
   * @throws SyncError `invalid` when `value` is not a plain object or has a field not in
   *   `allowed`
   */
  constructor(value: unknown, path: Path, allowed: readonly string[]) {
    if (!isPlainObject(value)) fail(path, 'expected an object');
    // Object.keys (own keys, a copy of V8's cached list) rather than for-in with an
    // `Object.hasOwn` call per key: the larger cost on the records of a 100,000-record pull.
    const keys = Object.keys(value);
    for (const key of keys) if (!allowed.includes(key)) fail(at(path, key), 'unknown field');
    this.#object = value;
    this.path = path;
    this.#all = keys.length === allowed.length;
  }

  /** Every allowed field is an own field (distinct own keys, each allowed, as many as allowed). */
  readonly #all: boolean;

  /** The field's value; `undefined` for an absent field (or one holding `undefined`). */
  optional(key: string): unknown {
    return this.#all || Object.hasOwn(this.#object, key) ? this.#object[key] : undefined;
  }

  /** The field's value; fails when it is absent, saying `problem`. */
  required(key: string, problem = 'is required'): unknown {
    const value = this.optional(key);
    if (value === undefined) fail(at(this.path, key), problem);
    return value;
  }

  /**
   * A required string that passes `check` (described by `format` in the error); `check` is
   * given strings only.
   */
  text(key: string, check: (value: string) => boolean, format: string): string {
    const value = this.required(key);
    // The field's path is made only on failure: a pull reads three texts of every record.
    if (typeof value !== 'string') fail(at(this.path, key), `expected a string (${format})`);
    if (!check(value)) fail(at(this.path, key), `expected ${format}`);
    return value;
  }

  /** A required safe integer of at least `min`; `-0` reads as `0`. */
  integer(key: string, min = 0): number {
    const value = this.required(key);
    // Also what a string or any other non-number is told.
    if (!Number.isSafeInteger(value) || (value as number) < min) {
      fail(at(this.path, key), `expected a safe integer >= ${min}`);
    }
    return value === 0 ? 0 : (value as number);
  }

  /** A required boolean. */
  boolean(key: string): boolean {
    const value = this.required(key);
    if (typeof value !== 'boolean') fail(at(this.path, key), 'expected a boolean');
    return value;
  }
}

// The three readers below are functions, not methods of `Fields`, so that a bundle that does not
// use them does not ship them: they serve the server's and session targeting's validators, not
// the checks of server answers a browser app runs.

/** An optional string field of `fields` that passes `check`. */
export function optionalText(
  fields: Fields,
  key: string,
  check: (value: string) => boolean,
  format: string,
): string | undefined {
  return fields.optional(key) === undefined ? undefined : fields.text(key, check, format);
}

/** An optional safe integer field of `fields`, of at least `min`. */
export function optionalInteger(fields: Fields, key: string, min = 0): number | undefined {
  return fields.optional(key) === undefined ? undefined : fields.integer(key, min);
}

/** A required array field of `fields`, each item read by `item`; more than `max` items fail. */
export function listField<T>(
  fields: Fields,
  key: string,
  item: (value: unknown, path: Path) => T,
  max?: number,
): T[] {
  const value = fields.required(key);
  const path = at(fields.path, key);
  if (!Array.isArray(value)) fail(path, 'expected an array');
  if (max !== undefined && value.length > max) fail(path, `has more than ${max} items`);
  // Indexed, not map(): a hole reads as undefined and fails like any other bad item.
  const out: T[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) out[i] = item(value[i], at(path, i));
  return out;
}

/** `T` with every optional field allowed to hold `undefined` while it is being built. */
export type Building<T> = { [K in keyof T]: T[K] | undefined };

/** Drops the fields whose value is `undefined` (exactOptionalPropertyTypes: absent, not undefined). */
export function defined<T extends object>(object: Building<T>): T {
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] === undefined) delete object[key];
  }
  return object as T;
}
