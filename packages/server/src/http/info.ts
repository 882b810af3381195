/**
 * `GET /v1/info`: what a client needs to know about this server before it writes: the protocol
 * version and the limits, so it can refuse an oversize write at `put` instead of queueing a
 * write the server will refuse. No authentication: the limits are not secret, and a client asks
 * before it has a token.
 *
 * @module
 */
import type { ServerFeatures, ServerInfo } from '@syncline/sync-core/protocol';
import { json } from './problem.js';

/** The limits `GET /v1/info` and a 413 `too_large` answer tell the client. */
export interface AdvertisedLimits {
  maxBodyBytes: number;
  maxRecordBytes: number;
  maxMutationsPerPush: number;
  maxPullLimit: number;
}

/** The body of `GET /v1/info`; `features` only when the server has some. */
export function serverInfo(limits: AdvertisedLimits, features: ServerFeatures = {}): ServerInfo {
  return {
    protocol: 1,
    limits: {
      maxBodyBytes: limits.maxBodyBytes,
      maxRecordBytes: limits.maxRecordBytes,
      maxMutationsPerPush: limits.maxMutationsPerPush,
      maxPullLimit: limits.maxPullLimit,
    },
    ...(Object.keys(features).length === 0 ? {} : { features }),
  };
}

/** The details of a 413 `too_large` answer: the limits the body broke. */
export function tooLargeDetails(limits: AdvertisedLimits): {
  maxBodyBytes: number;
  maxRecordBytes: number;
} {
  return { maxBodyBytes: limits.maxBodyBytes, maxRecordBytes: limits.maxRecordBytes };
}

/** Answers `GET /v1/info`. */
export function handleInfo(limits: AdvertisedLimits, features: ServerFeatures = {}): Response {
  return json(200, serverInfo(limits, features));
}

/** Bytes of `data` as UTF-8 JSON: the measure of `maxRecordBytes`. */
export function recordBytes(data: unknown): number {
  return new TextEncoder().encode(JSON.stringify(data)).byteLength;
}
