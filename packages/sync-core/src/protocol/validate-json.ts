/**
 * The building blocks of protocol validation: a JSON path for error messages, the one way a
 * validation fails, and the check + copy of arbitrary JSON data (record fields).
 *
 * Internal: the public validators live in `validate.ts`.
 *
 * @module
 */
import { SyncError } from '../errors/sync-error.js';
import { hasLoneSurrogate } from '../text/unicode.js';
import type { Json, JsonObject } from './types.js';

/**
 * A JSON path as a linked list, formatted only on failure. The checks below build a node only
 * for a container they descend into or a value that fails, so a valid 500-mutation push pays a
 * few small objects per mutation and no string building.
 */
export interface Path {
  readonly parent: Path | null;
  readonly key: string | number;
}

/** The root path, printed as `$`. */
export const ROOT: Path = { parent: null, key: '$' };

/** The path of `key` inside `parent`. */
export function at(parent: Path, key: string | number): Path {
  return { parent, key };
}

// A path segment can be an attacker's 256 KiB key; the message stays short.
const MAX_SEGMENT = 64;
/** A key printed as `.key`: an identifier of at most `MAX_SEGMENT` characters. */
const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;

/** Formats a path as `$.mutations[3].data["a b"]`. */
export function formatPath(path: Path): string {
  const { parent, key } = path;
  if (parent === null) return String(key);
  const before = formatPath(parent);
  if (typeof key === 'number') return `${before}[${key}]`;
  if (IDENTIFIER.test(key)) return `${before}.${key}`;
  const shown = key.length > MAX_SEGMENT ? `${key.slice(0, MAX_SEGMENT)}…` : key;
  // JSON.stringify escapes NUL, controls and lone surrogates, so the message is printable.
  return `${before}[${JSON.stringify(shown)}]`;
}

/**
 * Throws the one validation error: `SyncError('invalid')` with code `invalid` and the JSON
 * path of the problem in `details.path`.
 */
export function fail(path: Path, problem: string): never {
  const where = formatPath(path);
  throw new SyncError('invalid', `${where}: ${problem}`, {
    code: 'invalid',
    details: { path: where },
  });
}

/** Limits that apply to free-form JSON data. */
export interface JsonLimits {
  readonly maxJsonDepth: number;
  readonly maxStringLength: number;
  readonly maxFieldsPerRecord: number;
}

/** `true` for `{}`-style objects (plain or null-prototype), the only objects JSON has. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** How {@link copyJson} and {@link copyObject} check a value: the limits, and two options. */
export interface JsonCheck extends JsonLimits {
  /**
   * Check `value` itself and return it, copying nothing (a `-0` in it is set to `0`). Only for
   * values the caller owns outright, such as a body it just parsed.
   * @default false
   */
  readonly inPlace?: boolean;
  /**
   * Refuse strings and keys that contain NUL or a lone surrogate: what the server cannot store
   * (PostgreSQL's `jsonb` holds neither). `false` for data the server sent (a pulled record),
   * which it stored already: its strings are then checked for length only, and their
   * characters are not read (see docs/decisions.md, issue 10, session 11).
   * @default true
   */
  readonly characters?: boolean;
}

/**
 * What a string or key stored as data fails with under `check`, or `undefined` for a good one:
 * more than `maxStringLength` UTF-16 code units; unless `characters` is `false`, a NUL
 * (Postgres `jsonb`/`text` cannot hold it) or a lone surrogate (not valid UTF-8, so not valid
 * JSON text for other parsers). Other control characters (newline, tab) are ordinary data.
 */
function textProblem(value: string, check: JsonCheck, what: string): string | undefined {
  const max = check.maxStringLength;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  if (check.characters === false) return undefined;
  if (value.includes('\u0000')) return `${what} contains a NUL character`;
  if (hasLoneSurrogate(value)) return `${what} contains a lone surrogate`;
  return undefined;
}

/**
 * Checks that `value` is JSON data within the limits of `check` and returns a fresh copy made only of plain
 * objects, arrays and primitives. The copy is what callers keep, so a getter, a class instance
 * or a later mutation by the caller cannot change what was validated. `-0` becomes `0` (as
 * `JSON.stringify` would send it). Keys named `__proto__` are rejected anywhere: a key that
 * `JSON.parse` makes an own property would turn into a prototype write in a naive merge, so
 * it never enters the system; `constructor` and `prototype` are ordinary keys.
 *
 * With `check.inPlace`, nothing is copied: `value` itself is checked and returned (a `-0` in it is
 * set to `0`). Only for values the caller owns outright, such as a body it just parsed.
 */
export function copyJson(value: unknown, check: JsonCheck, path: Path, depth: number): Json {
  return member(value, check, path.parent ?? path, path.key, depth, path);
}

/**
 * {@link copyJson} for member `key` of the container at `parent`: the member's own path is
 * built only when it fails or is a container to descend into (`known`, when the caller has it).
 */
function member(
  value: unknown,
  check: JsonCheck,
  parent: Path,
  key: string | number,
  depth: number,
  known?: Path,
): Json {
  switch (typeof value) {
    case 'string': {
      const problem = textProblem(value, check, 'string');
      if (problem !== undefined) fail(known ?? at(parent, key), problem);
      return value;
    }
    case 'number':
      if (!Number.isFinite(value)) fail(known ?? at(parent, key), 'number is not finite');
      return value === 0 ? 0 : value;
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value)) return arrayAt(value, check, known ?? at(parent, key), depth);
      return copyObject(value, check, known ?? at(parent, key), depth);
    default:
      return fail(known ?? at(parent, key), `${typeof value} is not a JSON value`);
  }
}

/** Checks and copies (or, `inPlace`, only checks) a JSON array; `depth` is its own depth. */
function arrayAt(value: unknown[], check: JsonCheck, path: Path, depth: number): Json[] {
  const { inPlace } = check;
  if (depth > check.maxJsonDepth) fail(path, `nested deeper than ${check.maxJsonDepth}`);
  const out: Json[] = inPlace ? (value as Json[]) : new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    // A hole reads as undefined and is rejected like any other non-JSON value.
    const item = value[i];
    const checked = member(item, check, path, i, depth + 1);
    // In place (`out` is `value`), only a `-0` is written back, as `0`.
    if (!inPlace || !Object.is(checked, item)) out[i] = checked;
  }
  return out;
}

/** Checks and copies (or, `inPlace`, only checks) a JSON object (see {@link copyJson}); `depth` is its own depth. */
export function copyObject(
  value: unknown,
  check: JsonCheck,
  path: Path,
  depth: number,
): JsonObject {
  const { inPlace } = check;
  if (!isPlainObject(value)) fail(path, 'expected a plain JSON object');
  if (depth > check.maxJsonDepth) fail(path, `nested deeper than ${check.maxJsonDepth}`);
  const out: JsonObject = inPlace ? (value as JsonObject) : {};
  // Own keys from `Object.keys` (a copy of the object's cached key list in V8), rather than
  // for-in with an `Object.hasOwn` call per key, the larger cost on 100,000 pulled records.
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i >= check.maxFieldsPerRecord)
      fail(path, `has more than ${check.maxFieldsPerRecord} fields`);
    if (key === '__proto__') fail(at(path, key), 'the key "__proto__" is not allowed');
    const keyProblem = textProblem(key, check, 'key');
    if (keyProblem !== undefined) fail(at(path, key), keyProblem);
    const item = value[key];
    const checked = member(item, check, path, key, depth + 1);
    // In place (`out` is `value`), only a `-0` is written back, as `0`: the other values are
    // the checked ones.
    if (!inPlace || !Object.is(checked, item)) out[key] = checked;
  }
  return out;
}
