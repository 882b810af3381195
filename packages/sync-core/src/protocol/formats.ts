/**
 * The formats of the protocol's identifiers, one predicate each, shared by the request
 * validators (server), the answer validators (client) and the client's checks of a write.
 *
 * - **mutation id, txId**: a UUID, `8-4-4-4-12` lowercase hex (UUIDv7 in practice; any version
 *   is accepted). Uppercase is rejected so that one id has exactly one spelling.
 * - **scope**: `kind:rest` with `kind` = `[a-z][a-z0-9_-]{0,31}` and `rest` = 1–200 characters
 *   without whitespace, control characters or lone surrogates, e.g. `user:42`, `workspace:7`.
 * - **collection**: `[A-Za-z_][A-Za-z0-9_-]{0,63}`.
 * - **record id**: 1–`maxIdLength` characters, no control character (NUL included) and no
 *   lone surrogate. Anything else is accepted literally, including SQL metacharacters
 *   (`'; DROP TABLE x; --`), path segments (`../../`), zero-width and bidi-override
 *   characters: ids are data and are only ever bound as query parameters.
 * - **clientId, sessionId**: 1–128 characters of `[A-Za-z0-9._:-]`.
 * - **hlc**: an HLC timestamp as `clock/hlc.ts` formats it (`isHlc`: 12 lowercase hex digits,
 *   `:`, 4 lowercase hex digits, `:`, a node id without control characters), at most 300
 *   characters and without lone surrogates.
 * - **checkpoint**: an opaque string of 1–256 characters without control characters; the
 *   server decides what it means (an unknown one gets `resetRequired`).
 *
 * @module
 */
import { isHlcText } from '../clock/hlc.js';
import { hasControl, hasLoneSurrogate } from '../text/unicode.js';
import { type ProtocolLimits, resolveLimits } from './limits.js';

const SCOPE = /^[a-z][a-z0-9_-]{0,31}:[^\s]{1,200}$/u;
const COLLECTION = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_HLC = 300;
/** The longest text `SCOPE` matches (32 + 1 + 200). */
const MAX_SCOPE = 233;
const MAX_CHECKPOINT = 256;

/** How a client id or session id must look, in error messages. */
export const CLIENT_ID_FORMAT = '1-128 characters of [A-Za-z0-9._:-]';

/** `true` for a lowercase `8-4-4-4-12` hex UUID, the format of mutation ids and txIds. */
export function isUuid(value: unknown): value is string {
  // /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, read char by char (two or
  // three ids per mutation on every push).
  if (typeof value !== 'string' || value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) {
      return false;
    }
  }
  return true;
}

/** `true` for a well-formed scope such as `user:42` (see the module doc for the format). */
export function isScope(value: unknown): value is string {
  return isPlainText(value, MAX_SCOPE) && SCOPE.test(value);
}

/** `true` for a well-formed collection name. */
export function isCollection(value: unknown): value is string {
  return typeof value === 'string' && COLLECTION.test(value);
}

/** `true` for a well-formed client id or session id. */
export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID.test(value);
}

/** `true` for a well-formed record id under `limits` (see the module doc for the format). */
export function isRecordId(value: unknown, limits?: Partial<ProtocolLimits>): value is string {
  return isRecordIdWithin(value, resolveLimits(limits).maxIdLength);
}

/** {@link isRecordId} with the longest id given directly (validators hold resolved limits). */
export function isRecordIdWithin(value: unknown, max: number): value is string {
  return isPlainText(value, max);
}

/** `true` for an HLC timestamp of at most 300 characters (see the module doc). */
export function isHlcField(value: unknown): value is string {
  return isHlcText(value, MAX_HLC);
}

/**
 * `true` for the `hlc` of a record a transport hands the client: a text of 1–300 characters
 * without control characters. The client orders it and never decodes it to accept a page, so a
 * transport over another backend may keep its own timestamp text; what a client sends
 * ({@link isHlcField}) must be an HLC as `clock/hlc.ts` formats it.
 */
export function isRecordHlc(value: unknown): value is string {
  return isPlainText(value, MAX_HLC);
}

/** `true` for a checkpoint (see the module doc). */
export function isCheckpoint(value: unknown): value is string {
  return isPlainText(value, MAX_CHECKPOINT);
}

/** `true` for a text of 1 to `max` characters without control characters or lone surrogates. */
function isPlainText(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= max &&
    !hasControl(value) &&
    !hasLoneSurrogate(value)
  );
}
