import type { SyncError } from '../errors/sync-error.js';

/**
 * Answer of `GET /v1/info` (no authentication): the server's limits, so a client can refuse a
 * write the server would refuse, at `put`, before it is queued. The same limits come in the
 * `details` of a 413 `too_large` answer.
 */
export interface ServerInfo {
  /** The protocol version the server speaks: `1` for the `/v1` routes. */
  protocol: 1;
  /** The server's limits. */
  limits: ServerLimitsInfo;
  /** Optional parts of the protocol the server has; absent on older servers. */
  features?: ServerFeatures;
}

/** Optional parts of the protocol (see `ServerInfo.features`). */
export interface ServerFeatures {
  /** `PUT`/`HEAD /v1/assets/uploads/:uploadId`: uploads whose last chunk names the hash. */
  assetUploadsById?: boolean;
}

/** Limits a client must respect (see `ServerInfo`). */
export interface ServerLimitsInfo {
  /** Largest request body, in bytes (UTF-8 JSON). */
  maxBodyBytes: number;
  /**
   * Largest `data` of one mutation, in bytes of its UTF-8 JSON text (a put's record, a patch's
   * fields). A mutation over it is rejected with code `too_large`.
   */
  maxRecordBytes: number;
  /** Most mutations in one push. */
  maxMutationsPerPush: number;
  /** Largest `limit` of a pull. */
  maxPullLimit: number;
}

/**
 * Reads the limits out of a `ServerInfo` answer or a `too_large` error's details; `undefined`
 * when they are not there (an older server). Only positive safe integers are taken.
 */
export function readServerLimits(value: unknown): Partial<ServerLimitsInfo> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out: Partial<ServerLimitsInfo> = {};
  for (const key of LIMIT_KEYS) {
    const limit = (value as Record<string, unknown>)[key];
    if (Number.isSafeInteger(limit) && (limit as number) > 0) out[key] = limit as number;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const LIMIT_KEYS = [
  'maxBodyBytes',
  'maxRecordBytes',
  'maxMutationsPerPush',
  'maxPullLimit',
] as const;

/** The limits carried by a `too_large` SyncError (a 413 answer), if any. */
export function limitsOfTooLarge(error: SyncError): Partial<ServerLimitsInfo> | undefined {
  return error.code === 'too_large' ? readServerLimits(error.details) : undefined;
}
