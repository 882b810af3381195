/**
 * The size limits of the protocol, shared by the server (which enforces them on requests) and
 * the client (which refuses a write the server would refuse).
 *
 * @module
 */
import { at, fail, ROOT } from './validate-json.js';

/** Size limits of the protocol. Requests beyond them are rejected as `invalid`. */
export interface ProtocolLimits {
  /** Most mutations in one push. @default 500 */
  maxMutationsPerPush: number;
  /** Deepest nesting of record data; the data object itself is depth 1. @default 32 */
  maxJsonDepth: number;
  /** Longest string (value or key) in record data, in UTF-16 code units. @default 262144 (256 KiB) */
  maxStringLength: number;
  /** Longest record id, in UTF-16 code units. @default 256 */
  maxIdLength: number;
  /** Most keys of any one object in record data. @default 1000 */
  maxFieldsPerRecord: number;
  /** Largest `limit` of a pull. @default 1000 */
  maxPullLimit: number;
}

/** The default {@link ProtocolLimits}. */
export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMutationsPerPush: 500,
  maxJsonDepth: 32,
  maxStringLength: 256 * 1024,
  maxIdLength: 256,
  maxFieldsPerRecord: 1000,
  maxPullLimit: 1000,
});

/**
 * Fills the gaps of partial limits with {@link DEFAULT_LIMITS}.
 *
 * @throws SyncError `invalid` for a protocol limit that is not a positive integer
 */
export function resolveLimits(limits?: Partial<ProtocolLimits>): Readonly<ProtocolLimits> {
  if (limits === undefined || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS;
  // No cache of resolved limits (it would be state shared by every client and server in the
  // process): a few keys copied once per request or page. Other keys are the caller's own (a
  // server keeps its transport limits beside these).
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(out) as Array<keyof ProtocolLimits>) {
    const value = limits[key];
    if (value === undefined) continue;
    // A NaN or 0 limit would silently reject (or accept) everything.
    if (!Number.isSafeInteger(value) || value < 1) {
      fail(at(ROOT, key), 'a protocol limit must be a positive integer');
    }
    out[key] = value;
  }
  return Object.freeze(out);
}
