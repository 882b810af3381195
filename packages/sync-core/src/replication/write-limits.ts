import type { SyncEnvironment } from '../env/types.js';
import { SyncError } from '../errors/sync-error.js';
import type { ServerLimitsInfo } from '../protocol/server-info.js';
import type { JsonObject } from '../protocol/types.js';
import type { SyncTransport } from '../transport/types.js';
import { withTimeout } from './with-timeout.js';

// Room left in a push body around one record's data (ids, scope, hlc, the envelope) when only
// the server's body limit is known.
const ENVELOPE_BYTES = 16 * 1024;
const INFO_TIMEOUT_MS = 10_000;

/**
 * The server's size limit on one write, as far as the client knows it: learnt from the
 * transport's `info()` at sign-in, or from the details of a 413 `too_large` answer. A write
 * over it is refused at `put`/`patch` with a typed error, before it enters the outbox, where it
 * could only be rejected later.
 */
export class WriteLimits {
  /** The largest write's data, in bytes of UTF-8 JSON, or `undefined` while unknown. */
  #maxRecordBytes: number | undefined;

  /** Takes limits from the server (`info()` or a `too_large` answer). */
  learn(limits: Partial<ServerLimitsInfo>): void {
    // Without either limit, no room: nothing is learnt.
    const record = limits.maxRecordBytes ?? (limits.maxBodyBytes ?? 0) - ENVELOPE_BYTES;
    if (record > 0) this.#maxRecordBytes = record;
  }

  /**
   * Asks the transport for the server's limits and resolves with them (the pull loop sizes an
   * initial sync's pages by `maxPullLimit`); failures are ignored and resolve `undefined` (a 413
   * teaches the write limits too).
   */
  async learnFrom(
    transport: SyncTransport,
    env: SyncEnvironment,
  ): Promise<ServerLimitsInfo | undefined> {
    if (transport.info === undefined) return undefined;
    try {
      const info = await withTimeout(env, INFO_TIMEOUT_MS, undefined, (signal) =>
        (transport.info as NonNullable<SyncTransport['info']>)(signal),
      );
      this.learn(info.limits);
      return info.limits;
    } catch {
      // An older server without /v1/info, or no network: the first 413 will tell.
      return undefined;
    }
  }

  /**
   * Returns `data` when it fits the known limit.
   * @throws SyncError `invalid` with code `too_large` and `details: { bytes, maxRecordBytes }`
   */
  check(data: JsonObject): JsonObject {
    const max = this.#maxRecordBytes;
    if (max === undefined) return data;
    const text = JSON.stringify(data);
    // A UTF-16 code unit is at most 3 bytes of UTF-8: most records need no exact count.
    if (text.length * 3 <= max) return data;
    const bytes = new TextEncoder().encode(text).byteLength;
    if (bytes <= max) return data;
    throw new SyncError(
      'invalid',
      `The record is ${bytes} bytes as JSON, more than the server accepts (maxRecordBytes ${max})`,
      { code: 'too_large', details: { bytes, maxRecordBytes: max } },
    );
  }
}
