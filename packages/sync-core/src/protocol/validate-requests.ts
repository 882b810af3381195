/**
 * Validation of the requests a client sends: the server's side of the protocol. A browser app
 * never needs it (`@syncline/sync-core/protocol` exports it, the main entry does not), so it
 * does not ship in an app's bundle. Every problem throws `SyncError('invalid')` with code
 * `invalid` and the JSON path of the first problem in `details.path` (e.g.
 * `$.mutations[2].baseRevision`).
 *
 * The identifier formats are those of `formats.ts`; **baseRevision** is a non-negative safe
 * integer (`-0` reads as `0`; strings such as `"42"` are rejected); **data** is record data as
 * `validateRecordData` checks it. Unknown fields are rejected (the protocol is versioned by
 * URL, `/v1`, not by tolerance); a property whose value is `undefined` counts as absent, as it
 * would after a JSON round trip.
 *
 * @module
 */
import { isSyncError, type SyncError } from '../errors/sync-error.js';
import { Fields, optionalInteger } from './fields.js';
import {
  CLIENT_ID_FORMAT,
  isCheckpoint,
  isClientId,
  isCollection,
  isHlcField,
  isRecordIdWithin,
  isScope,
  isUuid,
} from './formats.js';
import { type ProtocolLimits, resolveLimits } from './limits.js';
import type { JsonObject, Mutation, PullRequest, PushRequest } from './types.js';
import { at, copyObject, fail, isPlainObject, type Path, ROOT } from './validate-json.js';

/**
 * Checks one mutation, the server's per-mutation hot path: read the fields in one pass, check
 * the fields every kind has, then the kind's own rule for `data`, and build the result.
 * Problems are reported in field order (id, scope, collection, recordId, op, data,
 * baseRevision, hlc, txId), the first one failing.
 */
function mutationAt(
  value: unknown,
  path: Path,
  limits: Readonly<ProtocolLimits>,
  inPlace = false,
): Mutation {
  const fields = readMutationFields(value, path);
  const id = requiredText(fields.id, path, 'id', isUuid, 'a lowercase UUID');
  const scope = requiredText(fields.scope, path, 'scope', isScope, 'a scope');
  const collection = requiredText(
    fields.collection,
    path,
    'collection',
    isCollection,
    'a collection name',
  );
  const recordId = checkRecordId(fields.recordId, path, limits.maxIdLength);
  const op = checkOp(fields.op, path);
  const data =
    op === 'delete'
      ? checkDeleteData(fields.data, path)
      : checkWriteData(op, fields.data, path, limits, inPlace);
  const baseRevision = checkBaseRevision(fields.baseRevision, path);
  const hlc = requiredText(fields.hlc, path, 'hlc', isHlcField, 'an HLC timestamp');
  const txId = fields.txId;
  if (txId !== undefined && !isUuid(txId)) badString(txId, path, 'txId', 'a lowercase UUID');
  if (inPlace) return checkedInPlace(fields.object);
  // Two literals rather than a spread: same keys in the same order, but one hidden class per
  // shape instead of a generic clone on the server's per-mutation hot path.
  const mutation: Mutation =
    data === undefined
      ? { id, scope, collection, recordId, op, baseRevision, hlc }
      : { id, scope, collection, recordId, op, data, baseRevision, hlc };
  if (txId !== undefined) mutation.txId = txId;
  return mutation;
}

/** The fields of a raw mutation, as read by {@link readMutationFields}, not yet checked. */
interface MutationFields {
  readonly object: Record<string, unknown>;
  readonly id: unknown;
  readonly scope: unknown;
  readonly collection: unknown;
  readonly recordId: unknown;
  readonly op: unknown;
  readonly data: unknown;
  readonly baseRevision: unknown;
  readonly hlc: unknown;
  readonly txId: unknown;
}

/**
 * Reads every field of a mutation in one pass over its own keys, refusing unknown ones (what
 * `Fields` and a lookup per field would do in ten passes). An absent field reads `undefined`.
 */
function readMutationFields(value: unknown, path: Path): MutationFields {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  let id: unknown;
  let scope: unknown;
  let collection: unknown;
  let recordId: unknown;
  let op: unknown;
  let data: unknown;
  let baseRevision: unknown;
  let hlc: unknown;
  let txId: unknown;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    switch (key) {
      case 'id':
        id = value[key];
        break;
      case 'scope':
        scope = value[key];
        break;
      case 'collection':
        collection = value[key];
        break;
      case 'recordId':
        recordId = value[key];
        break;
      case 'op':
        op = value[key];
        break;
      case 'data':
        data = value[key];
        break;
      case 'baseRevision':
        baseRevision = value[key];
        break;
      case 'hlc':
        hlc = value[key];
        break;
      case 'txId':
        txId = value[key];
        break;
      default:
        fail(at(path, key), 'unknown field');
    }
  }
  return { object: value, id, scope, collection, recordId, op, data, baseRevision, hlc, txId };
}

/** A required string field that `valid` accepts; fails naming `format` otherwise. */
function requiredText(
  value: unknown,
  path: Path,
  key: string,
  valid: (value: unknown) => value is string,
  format: string,
): string {
  if (value === undefined) missing(path, key);
  if (!valid(value)) badString(value, path, key, format);
  return value;
}

/** `recordId`: required, 1 to `maxIdLength` characters, no control characters. */
function checkRecordId(value: unknown, path: Path, maxIdLength: number): string {
  if (value === undefined) missing(path, 'recordId');
  if (!isRecordIdWithin(value, maxIdLength)) {
    badString(
      value,
      path,
      'recordId',
      `a record id of 1-${maxIdLength} characters without control characters`,
    );
  }
  return value;
}

/** `op`: required, one of the three kinds. */
function checkOp(value: unknown, path: Path): Mutation['op'] {
  if (value === undefined) missing(path, 'op');
  if (value !== 'put' && value !== 'patch' && value !== 'delete') {
    badString(value, path, 'op', 'put, patch or delete');
  }
  return value;
}

/** A `delete` carries no `data`. */
function checkDeleteData(value: unknown, path: Path): undefined {
  if (value !== undefined) fail(at(path, 'data'), 'a delete carries no data');
  return undefined;
}

/** A `put` or `patch` requires `data`: record data as `copyObject` checks it (copied unless in place). */
function checkWriteData(
  op: 'put' | 'patch',
  value: unknown,
  path: Path,
  limits: Readonly<ProtocolLimits>,
  inPlace: boolean,
): JsonObject {
  if (value === undefined) fail(at(path, 'data'), `is required for ${op}`);
  return copyObject(value, { ...limits, inPlace }, at(path, 'data'), 1);
}

/** `baseRevision`: required, a non-negative safe integer; `-0` reads as `0`. */
function checkBaseRevision(value: unknown, path: Path): number {
  if (value === undefined) missing(path, 'baseRevision');
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return value === 0 ? 0 : value;
  }
  return fail(
    at(path, 'baseRevision'),
    typeof value === 'number' ? 'expected a safe integer >= 0' : 'expected a number',
  );
}

/**
 * The checked object itself as the mutation: every field was read and checked and no other
 * field exists (the read refused it), so only a `-0` base revision needs writing back.
 */
function checkedInPlace(object: Record<string, unknown>): Mutation {
  if (Object.is(object.baseRevision, -0)) object.baseRevision = 0;
  return object as unknown as Mutation;
}

/** Fails for the missing field `key` of the object at `path`, in the words of `Fields.required`. */
function missing(path: Path, key: string): never {
  return fail(at(path, key), 'is required');
}

/** Fails for the string field `key` of the object at `path`, in the words of `Fields.text`. */
function badString(value: unknown, path: Path, key: string, format: string): never {
  return fail(
    at(path, key),
    typeof value === 'string' ? `expected ${format}` : `expected a string (${format})`,
  );
}

/**
 * Checks one mutation and returns a validated copy (see the module doc for the formats).
 * `put` and `patch` require `data`; `delete` forbids it.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateMutation(value: unknown, limits?: Partial<ProtocolLimits>): Mutation {
  return mutationAt(value, ROOT, resolveLimits(limits));
}

/** A mutation of a push that passed validation. */
export interface ValidPushEntry {
  /** Discriminant. */
  ok: true;
  /** The mutation id. */
  id: string;
  /** The validated copy of the mutation. */
  mutation: Mutation;
}

/** A mutation of a push that failed validation but has a valid id to answer with. */
export interface InvalidPushEntry {
  /** Discriminant. */
  ok: false;
  /** The mutation id. */
  id: string;
  /** The raw mutation's `txId` when it is a well-formed UUID, so the whole group is rejected. */
  txId?: string;
  /** Why it is invalid (`SyncError('invalid')` with the JSON path in the request). */
  error: SyncError;
}

/** One mutation of a push as the server sees it: valid, or invalid with its (valid) id. */
export type PushEntry = ValidPushEntry | InvalidPushEntry;

/** A push request whose envelope is valid, with each mutation validated on its own. */
export interface ParsedPushRequest {
  /** The installation. */
  clientId: string;
  /** The auth session the client claims (the server trusts its own authentication instead). */
  sessionId: string;
  /** One entry per mutation, in request order. */
  entries: PushEntry[];
}

/** Options of {@link parsePushRequest}. */
export interface ParsePushOptions {
  /**
   * The server's limits.
   * @default DEFAULT_LIMITS
   */
  limits?: Partial<ProtocolLimits>;
  /**
   * Check the mutations in place (the caller owns `body`) rather than copying them.
   * @default false
   */
  inPlace?: boolean;
}

/**
 * The server's reading of a push: the envelope must be valid, and every mutation must at least
 * have a valid, unique `id` (the result of an invalid mutation is keyed by it); beyond that each
 * mutation is validated on its own, so one bad mutation becomes one `rejected` result (code
 * `invalid`) and the others are still processed.
 *
 * With `inPlace`, nothing is copied: the mutations are the objects of `body`, checked in place
 * (a `-0` in them is set to `0`). Pass it for a body you own, such as the result of
 * `JSON.parse` on the request text, as the servers do.
 *
 * @param options - the limits, and whether to check in place
 * @throws SyncError `invalid` for a bad envelope, a mutation without a valid id, a duplicate id
 * within the request, or more than `maxMutationsPerPush` mutations
 * @example
 * ```ts
 * const parsed = parsePushRequest(JSON.parse(text), { limits, inPlace: true });
 * ```
 */
export function parsePushRequest(body: unknown, options: ParsePushOptions = {}): ParsedPushRequest {
  const inPlace = options.inPlace ?? false;
  const resolved = resolveLimits(options.limits);
  const request = new Fields(body, ROOT, ['clientId', 'sessionId', 'mutations']);
  const clientId = request.text('clientId', isClientId, CLIENT_ID_FORMAT);
  const sessionId = request.text('sessionId', isClientId, CLIENT_ID_FORMAT);
  const mutations = request.required('mutations');
  const listPath = at(ROOT, 'mutations');
  if (!Array.isArray(mutations)) fail(listPath, 'expected an array');
  if (mutations.length > resolved.maxMutationsPerPush) {
    fail(listPath, `more than ${resolved.maxMutationsPerPush} mutations`);
  }
  const seen = new Set<string>();
  const entries: PushEntry[] = [];
  for (let i = 0; i < mutations.length; i++) {
    const path = at(listPath, i);
    const raw: unknown = mutations[i];
    if (!isPlainObject(raw)) fail(path, 'expected an object');
    const id = Object.hasOwn(raw, 'id') ? raw.id : undefined;
    if (!isUuid(id)) badString(id, path, 'id', 'a lowercase UUID');
    if (seen.has(id)) fail(at(path, 'id'), 'duplicate mutation id in one request');
    seen.add(id);
    try {
      entries.push({ ok: true, id, mutation: mutationAt(raw, path, resolved, inPlace) });
    } catch (error) {
      if (!isSyncError(error)) throw error;
      const txId = Object.hasOwn(raw, 'txId') ? raw.txId : undefined;
      entries.push(isUuid(txId) ? { ok: false, id, txId, error } : { ok: false, id, error });
    }
  }
  return { clientId, sessionId, entries };
}

/**
 * Checks a whole push request strictly: the envelope and every mutation (see
 * {@link parsePushRequest} for the server's per-mutation reading).
 *
 * @throws SyncError `invalid` with `details.path` of the first problem
 */
export function validatePushRequest(body: unknown, limits?: Partial<ProtocolLimits>): PushRequest {
  const parsed = parsePushRequest(body, limits === undefined ? {} : { limits });
  const mutations: Mutation[] = [];
  for (const entry of parsed.entries) {
    if (!entry.ok) throw entry.error;
    mutations.push(entry.mutation);
  }
  return { clientId: parsed.clientId, sessionId: parsed.sessionId, mutations };
}

/**
 * Checks a pull request `{ scope, checkpoint: string | null, limit? }` (the HTTP layer parses
 * the query string into that shape). `limit` is an integer in `1..maxPullLimit`.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePullRequest(query: unknown, limits?: Partial<ProtocolLimits>): PullRequest {
  const request = new Fields(query, ROOT, ['scope', 'checkpoint', 'limit']);
  const scope = request.text('scope', isScope, 'a scope');
  const rawCheckpoint = request.required('checkpoint', 'is required (null for a first pull)');
  const checkpoint =
    rawCheckpoint === null ? null : request.text('checkpoint', isCheckpoint, 'a checkpoint');
  const pull: PullRequest = { scope, checkpoint };
  const limit = optionalInteger(request, 'limit', 1);
  if (limit !== undefined) {
    const { maxPullLimit } = resolveLimits(limits);
    if (limit > maxPullLimit) fail(at(ROOT, 'limit'), `above ${maxPullLimit}`);
    pull.limit = limit;
  }
  return pull;
}
