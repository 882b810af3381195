/**
 * The public face of `client.assets`: its methods and their options. {@link ClientAssets}
 * implements it.
 *
 * @module
 */
import type { TargetSpec } from '../deliveries/targets.js';
import type { Transfer } from '../protocol/sessions.js';
import type { Delivery } from '../protocol/types.js';
import type { AssetMeta } from './asset-store.js';
import type { TransferProgress } from './progress.js';
import type { AssetSource } from './transfer-io.js';

/** Kind of the delivery `client.assets.send` creates. */
export const ASSET_DELIVERY_KIND = 'syncline.asset';

/** Options of `client.assets.send`. */
export interface SendAssetOptions {
  /** File name shown to the receivers. */
  name?: string;
  /** Media type. */
  mimeType?: string;
  /**
   * Who receives it.
   * @default otherSessions()
   */
  target?: TargetSpec;
  /**
   * Seconds until the delivery (and the server's copy) expires. A server refuses a `ttl`
   * above its cap (`maxDeliveryTtlSeconds`) with a `rejected` SyncError of status 400.
   * @default the server's default: 172800 (48 h), or the server's cap when that is lower
   */
  ttl?: number;
  /**
   * Id of the send and of its delivery (idempotency key: a send repeated with the same id, as a
   * follower tab's send repeated to a new leader tab, creates one delivery).
   * @default a new UUIDv7
   */
  id?: string;
}

/** Options of `client.assets.request`. */
export interface RequestAssetOptions {
  /** The user whose device holds the file. */
  from: string;
  /** A scope both users belong to (e.g. the workspace that lists the file). */
  scope: string;
  /** File name, as listed. */
  name?: string;
  /** Size in bytes, as listed. */
  size?: number;
  /** Media type, as listed. */
  mimeType?: string;
}

/** A stored asset. */
export interface AssetFile extends AssetMeta {
  /** Its SHA-256. */
  hash: string;
  /** Reads all of it (mind the size). */
  bytes(): Promise<Uint8Array>;
  /**
   * Reads it in chunks. From a store that reads into a given buffer (the file store) it is a
   * byte stream: a BYOB reader has the bytes read into its own buffer, and `assets.send` of
   * such a stream reuses a few buffers instead of one per chunk. (A Blob is read as its own
   * stream hands out its pieces: in Node, pass `assets.send` the Blob rather than its
   * `stream()`, which a BYOB read would copy once more.)
   */
  stream(): ReadableStream<Uint8Array>;
}

/**
 * Gives the bytes of an asset this device holds outside the asset store (e.g. a file on disk
 * in Electron), or `undefined`. The bytes are verified against the hash before they are sent.
 *
 * - `undefined`: this device does not have it; the request stays for another session of the
 *   holder (any of them may serve it, also one that comes online later) and is offered to this
 *   one again at its next catch-up. The transfer is not failed.
 * - A throw: the same, and the error reaches the `deliveryFailed` event as kind `app`.
 * - Bytes of another hash: dropped and asked for again, up to 3 times in all (as a download
 *   is); then the transfer is `failed` for both sides with the error "The provider gave other
 *   bytes than asset …", and the request is not offered again.
 */
export type AssetProvider = (
  sha256: string,
) => AssetSource | undefined | Promise<AssetSource | undefined>;

/** `client.assets`: content-addressed files sent to sessions, or fetched on request. */
export interface AssetsApi {
  /**
   * Stores `source` locally, uploads it (resumably) and delivers it to `target`; resolves once
   * the delivery exists. Receivers fetch and verify it before their `delivery` handler runs.
   *
   * Where the runtime hashes natively (Node, Bun, Deno, Electron), a `Uint8Array` is hashed
   * first, then stored while it uploads; bytes changed meanwhile fail the send (`invalid`,
   * code `source_changed`). A stream or a Blob is read once, and uploaded as it is stored
   * where the server takes uploads by id (`GET /v1/info`). Otherwise, as a `Uint8Array` where
   * the runtime has no native hash (a browser), it is stored whole before its upload starts.
   *
   * The send is durable once the bytes are stored: cut short by a reload, a crash or `stop()`,
   * it continues at the next sign-in of the same user on this device (from the bytes the server
   * already holds, with the same delivery id). The promise of the first call is gone then: the
   * `transfer` event (an upload under the delivery's id) follows the resumed send.
   * @throws SyncError `invalid` for a source that is not a Uint8Array, a Blob or a stream
   */
  send(
    source: AssetSource,
    options?: SendAssetOptions,
  ): Promise<{ hash: string; size: number; delivery: Delivery }>;
  /**
   * Stores `source` locally (to list it, or to serve a later request); resolves with its hash.
   * @throws SyncError `invalid` for a source that is not a Uint8Array, a Blob or a stream
   */
  add(source: AssetSource, meta?: { name?: string; mimeType?: string }): Promise<AssetFile>;
  /**
   * Asks `options.from`'s devices for an asset; it downloads when one of them uploads it. Follow
   * it with `transfers()` and the `transfer` event; the file lands in the store (see `get`).
   * @throws SyncError `invalid` for a hash that is not 64 lowercase hex digits, or a missing
   *   `from` or `scope`; `auth` (403) when the two users share no `scope`
   */
  request(hash: string, options: RequestAssetOptions): Promise<Transfer>;
  /** Serves transfer requests for assets outside the store (`null` removes the provider). */
  provide(provider: AssetProvider | null): void;
  /** A stored asset, or `undefined`. */
  get(hash: string): Promise<AssetFile | undefined>;
  /** Every upload and download of this client since it started (a stable array until one changes). */
  transfers(): readonly TransferProgress[];
}
