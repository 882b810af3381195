/**
 * Validation of what a client accepts: record data from the app, and the server's answers
 * (push results, pull pages, pokes). Every problem throws `SyncError('invalid')` with code
 * `invalid` and the JSON path of the first problem in `details.path` (e.g.
 * `$.changes[2].revision`). The server's side, the requests, is in `validate-requests.ts`.
 *
 * The identifier formats are those of `formats.ts`; a stored record's **revision** is a
 * positive safe integer; **data** is checked by {@link validateRecordData}. Unknown fields are
 * rejected (the protocol is versioned by URL, `/v1`, not by tolerance); a property whose value
 * is `undefined` counts as absent, as it would after a JSON round trip.
 *
 * @module
 */
import { isSyncError } from '../errors/sync-error.js';
import { recordKey } from '../store/record-key.js';
import { Fields } from './fields.js';
import {
  CLIENT_ID_FORMAT,
  isCheckpoint,
  isClientId,
  isCollection,
  isRecordHlc,
  isRecordIdWithin,
  isScope,
} from './formats.js';
import { type ProtocolLimits, resolveLimits } from './limits.js';
import type {
  JsonObject,
  Mutation,
  MutationResult,
  Poke,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncRecord,
} from './types.js';
import {
  at,
  copyJson,
  copyObject,
  fail,
  isPlainObject,
  type JsonCheck,
  type Path,
  ROOT,
} from './validate-json.js';

const MAX_CODE = 128;
const MAX_MESSAGE = 4096;

/**
 * Checks record data (the `data` of a put or patch, or of a stored record) and returns a
 * validated copy: a plain JSON object, nested at most `maxJsonDepth` deep, no object with more
 * than `maxFieldsPerRecord` keys, no string or key longer than `maxStringLength`, finite
 * numbers only (`1e400` parses to `Infinity` and is rejected; `-0` becomes `0`; a 40-digit
 * integer is kept as the double `JSON.parse` made of it), no string or key containing NUL or a
 * lone surrogate, no `__proto__` key at any depth. `constructor` and `prototype` are plain keys.
 * Values must be JSON: `undefined`, functions, dates, maps, class instances are rejected.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateRecordData(data: unknown, limits?: Partial<ProtocolLimits>): JsonObject {
  return recordDataWithin(data, resolveLimits(limits));
}

/**
 * {@link validateRecordData} under limits already resolved: the client, which never sets
 * limits, passes `DEFAULT_LIMITS` and does not ship `resolveLimits`' check of them.
 * @internal
 */
export function recordDataWithin(data: unknown, limits: Readonly<ProtocolLimits>): JsonObject {
  return copyObject(data, limits, ROOT, 1);
}

const RECORD_FIELDS = ['scope', 'collection', 'id', 'data', 'revision', 'hlc', 'deleted'];

/**
 * How the records of one answer are read: their data is checked in place under the answer's
 * limits, as the server's record as it stored it, so its strings' characters are the server's
 * rules (see `JsonCheck.characters`); `isId` checks their ids; `scope` is the scope last found
 * valid (a page's records nearly all share one scope, which is then checked once, not once per
 * record). Made per call: nothing is remembered between answers.
 */
interface RecordReader extends JsonCheck {
  readonly isId: (value: unknown) => boolean;
  scope: string | undefined;
}

/** A reader of the records of one answer (checked in place), under `limits`. */
function readerOf(limits: Readonly<ProtocolLimits>): RecordReader {
  return {
    ...limits,
    inPlace: true,
    characters: false,
    isId: (v) => isRecordIdWithin(v, limits.maxIdLength),
    scope: undefined,
  };
}

/** Checks a record in place and returns it (with a `-0` in its data set to `0`). */
function recordAt(value: unknown, path: Path, reader: RecordReader): SyncRecord {
  const r = new Fields(value, path, RECORD_FIELDS);
  const scope = r.optional('scope');
  if (scope !== reader.scope || scope === undefined) {
    reader.scope = r.text('scope', isScope, 'a scope');
  }
  r.text('collection', isCollection, 'a collection name');
  r.text('id', reader.isId, 'a record id');
  const deleted = r.boolean('deleted');
  const data = r.required('data', 'is required (null for a tombstone)');
  if (deleted) {
    if (data !== null) fail(at(path, 'data'), 'a tombstone has data null');
  } else {
    if (data === null) fail(at(path, 'data'), 'a live record has data');
    copyObject(data, reader, at(path, 'data'), 1);
  }
  r.integer('revision', 1);
  r.text('hlc', isRecordHlc, 'a timestamp text (1-300 characters)');
  // Every field was read above and no other field exists (Fields refused it), so the checked
  // object is the record.
  return value as SyncRecord;
}

/**
 * Checks a record as the server sends it: `deleted` ⇔ `data === null`, `revision` ≥ 1. Its
 * `data` is checked as {@link validateRecordData} checks it, except the characters of its
 * strings and keys: a NUL or a lone surrogate is the server's to refuse when it is written (the
 * server stored the record already), so only their lengths are checked.
 *
 * Returns a copy: `value` is copied as JSON first (within the limits, so a getter is read once
 * and a class instance refused), then the copy is checked as a pulled record is.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateSyncRecord(value: unknown, limits?: Partial<ProtocolLimits>): SyncRecord {
  const resolved = resolveLimits(limits);
  // Depth 0: the record's own fields, so its data is at depth 1 as in a page.
  const copy = copyJson(value, { ...resolved, characters: false }, ROOT, 0);
  return recordAt(copy, ROOT, readerOf(resolved));
}

const RESULT_FIELDS: Record<MutationResult['status'], readonly string[]> = {
  applied: ['id', 'status', 'revision'],
  conflict: ['id', 'status', 'server'],
  rejected: ['id', 'status', 'code', 'message'],
};

/** Checks one push result in place (see {@link validatePushResponse}). */
function resultAt(
  value: unknown,
  path: Path,
  mutation: Mutation,
  limits: Readonly<ProtocolLimits>,
): MutationResult {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  const status = Object.hasOwn(value, 'status') ? value.status : undefined;
  if (status !== 'applied' && status !== 'conflict' && status !== 'rejected') {
    fail(at(path, 'status'), 'expected applied, conflict or rejected');
  }
  const result = new Fields(value, path, RESULT_FIELDS[status]);
  if (result.required('id') !== mutation.id) {
    fail(at(path, 'id'), 'does not match the mutation at this position');
  }
  if (status === 'applied') result.integer('revision', 1);
  else if (status === 'rejected') {
    // Short texts of the server's: their characters are the server's, as a pulled record's
    // strings are (see validateSyncRecord); only their lengths are checked.
    result.text('code', (code) => code.length <= MAX_CODE, `at most ${MAX_CODE} characters`);
    result.text(
      'message',
      (message) => message.length <= MAX_MESSAGE,
      `at most ${MAX_MESSAGE} characters`,
    );
  } else {
    const raw = result.required('server', 'is required (or null)');
    if (raw !== null) {
      const server = recordAt(raw, at(path, 'server'), readerOf(limits));
      if (
        server.scope !== mutation.scope ||
        server.collection !== mutation.collection ||
        server.id !== mutation.recordId
      ) {
        fail(at(path, 'server'), 'is not the record the mutation wrote');
      }
    }
  }
  return value as unknown as MutationResult;
}

/**
 * Checks the server's answer to `request` on the client side: exactly one result per pushed
 * mutation, with the same ids in the same order; a conflict's `server` record is the record
 * the mutation wrote (same scope, collection and id).
 *
 * The answer is checked in place, as {@link validatePullResponse} checks a page: the returned
 * answer is `body` itself (a `-0` in a conflict's record data is set to `0`). Pass a body you
 * own, such as the result of `JSON.parse` on the response text.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePushResponse(
  body: unknown,
  request: PushRequest,
  limits?: Partial<ProtocolLimits>,
): PushResponse {
  return pushResponseWithin(body, request, resolveLimits(limits));
}

/** {@link validatePushResponse} under limits already resolved (see {@link recordDataWithin}). @internal */
export function pushResponseWithin(
  body: unknown,
  request: PushRequest,
  limits: Readonly<ProtocolLimits>,
): PushResponse {
  const response = new Fields(body, ROOT, ['results']);
  const { mutations } = request;
  const results = response.required('results');
  const listPath = at(ROOT, 'results');
  if (!Array.isArray(results)) fail(listPath, 'expected an array');
  if (results.length !== mutations.length) {
    fail(listPath, `expected ${mutations.length} results, got ${results.length}`);
  }
  for (let i = 0; i < mutations.length; i++) {
    resultAt(results[i], at(listPath, i), mutations[i] as Mutation, limits);
  }
  return body as PushResponse;
}

const PULL_FIELDS = ['changes', 'checkpoint', 'hasMore', 'resetRequired'];

/**
 * Checks the server's answer to a pull, as the client applies it (the transport contract,
 * DESIGN.md §5): every change a valid record, of the requested scope when `request` is given;
 * revisions are per record (DESIGN §6), so they must increase only for a record that appears
 * twice in the page (a syncline server's pages increase across the page, a resource API's need
 * not); the checkpoint is an opaque non-empty string of any length (a resource transport's is
 * a map of revisions; the syncline wire limit is the server's to keep). Record data is checked
 * as {@link validateSyncRecord} checks it (shape and limits; its strings' characters are not
 * read).
 *
 * The page is checked in place, not copied: the returned page is `body` itself (a `-0` in
 * record data is set to `0`). Pass a body you own, such as the result of `JSON.parse` on the
 * response text; a 100,000-record initial sync then allocates nothing beyond what the parse
 * made. The client runs this on every page a transport hands it, whatever the transport.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePullResponse(
  body: unknown,
  request?: PullRequest,
  limits?: Partial<ProtocolLimits>,
): PullResponse {
  return pullResponseWithin(body, request, resolveLimits(limits));
}

/** {@link validatePullResponse} under limits already resolved (see {@link recordDataWithin}). @internal */
export function pullResponseWithin(
  body: unknown,
  request: PullRequest | undefined,
  limits: Readonly<ProtocolLimits>,
): PullResponse {
  const reader = readerOf(limits);
  const response = new Fields(body, ROOT, PULL_FIELDS);
  const changes = response.required('changes');
  const listPath = at(ROOT, 'changes');
  if (!Array.isArray(changes)) fail(listPath, 'expected an array');
  let previous = 0;
  let seen: Map<string, number> | undefined;
  // Indexed: no iterator result per record while V8 still interprets this.
  for (let i = 0; i < changes.length; i++) {
    const path = at(listPath, i);
    const record = recordAt(changes[i], path, reader);
    if (request !== undefined && record.scope !== request.scope) {
      fail(at(path, 'scope'), 'is not the pulled scope');
    }
    if (record.revision <= previous) {
      // Only a record seen before in this page must move forward.
      seen ??= revisionsBefore(changes as SyncRecord[], i);
      const before = seen.get(recordKey(record.collection, record.id));
      if (before !== undefined && record.revision <= before) {
        fail(at(path, 'revision'), 'revisions of one record are not increasing');
      }
    } else {
      previous = record.revision;
    }
    seen?.set(recordKey(record.collection, record.id), record.revision);
  }
  response.text('checkpoint', (value) => value.length > 0, 'a non-empty string');
  response.boolean('hasMore');
  if (response.optional('resetRequired') !== undefined) response.boolean('resetRequired');
  return body as PullResponse;
}

/** The last revision of each record among `changes[0..end)`. */
function revisionsBefore(changes: readonly SyncRecord[], end: number): Map<string, number> {
  const seen = new Map<string, number>();
  for (let i = 0; i < end; i++) {
    const r = changes[i] as SyncRecord;
    seen.set(recordKey(r.collection, r.id), r.revision);
  }
  return seen;
}

const POKE_FIELDS = [
  'scope',
  'version',
  'originClientId',
  'fromCheckpoint',
  'checkpoint',
  'changes',
];
const POKE_PAGE_FIELDS = ['fromCheckpoint', 'checkpoint', 'changes'] as const;

/**
 * Checks a realtime poke `{ scope, version, originClientId?, fromCheckpoint?, checkpoint?,
 * changes? }`. The page fields come all together or not at all; `changes` are checked as a
 * pull page's (valid records of the poked scope, in version order).
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePoke(value: unknown, limits?: Partial<ProtocolLimits>): Poke {
  const poke = new Fields(value, ROOT, POKE_FIELDS);
  const out: Poke = {
    scope: poke.text('scope', isScope, 'a scope'),
    version: poke.integer('version'),
  };
  if (poke.optional('originClientId') !== undefined) {
    out.originClientId = poke.text('originClientId', isClientId, CLIENT_ID_FORMAT);
  }
  if (POKE_PAGE_FIELDS.every((key) => poke.optional(key) === undefined)) return out;
  for (const key of POKE_PAGE_FIELDS) poke.required(key, 'is required with the other page fields');
  out.fromCheckpoint = poke.text('fromCheckpoint', isCheckpoint, 'a checkpoint');
  out.checkpoint = poke.text('checkpoint', isCheckpoint, 'a checkpoint');
  // The same checks as a pull page of the poked scope.
  out.changes = validatePullResponse(
    { changes: poke.optional('changes'), checkpoint: out.checkpoint, hasMore: false },
    { scope: out.scope, checkpoint: out.fromCheckpoint },
    limits,
  ).changes;
  return out;
}

/**
 * The plain part of a poke (`scope`, `version`, `originClientId`) whose page fields did not
 * validate, or `undefined` when even that part is invalid. A client that gets a malformed
 * payload still learns that the scope changed, and pulls.
 */
export function plainPokeOf(value: unknown): Poke | undefined {
  if (!isPlainObject(value)) return undefined;
  const { scope, version, originClientId } = value;
  try {
    // An absent originClientId reads as undefined, which the check takes as absent.
    return validatePoke({ scope, version, originClientId });
  } catch (error) {
    if (isSyncError(error)) return undefined;
    throw error;
  }
}
