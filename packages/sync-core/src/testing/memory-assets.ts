/**
 * Assets and transfers of the in-memory server, with the semantics of the wire contract
 * (`/v1/assets/:sha256`, `/v1/transfers`): chunked uploads that continue at the held offset,
 * verification of the last chunk, ranged reads only for the parties of a live delivery or
 * transfer, size limits, and deletion once nothing live references an asset.
 *
 * @module
 */
import { sha256Hex } from '../assets/sha256.js';
import { SyncError } from '../errors/sync-error.js';
import type {
  AssetProbe,
  AuthSession,
  TransferRecord,
  TransferRequest,
  TransferState,
} from '../transport/types.js';
import { forbidden, invalid, type MemorySessions, notFound } from './memory-sessions.js';

/** Kind of the delivery that carries a transfer request to the holder's sessions. */
export const TRANSFER_REQUEST_KIND = 'syncline.transfer-request';

interface StoredAsset {
  chunks: Uint8Array[];
  held: number;
  total: number;
  complete: boolean;
  uploaderUserId: string;
  updatedAt: number;
  /** A live delivery or transfer referenced it once; until then it is kept for a grace period. */
  referenced: boolean;
}

/** Limits of the in-memory asset store. */
export interface MemoryAssetLimits {
  /** Largest asset in bytes. */
  maxAssetBytes: number;
  /** Bytes one user may hold across assets. */
  maxUserBytes: number;
  /** Transfer TTL in seconds. */
  transferTtlSeconds: number;
}

/** What {@link MemoryAssets} needs from its server. */
export interface MemoryAssetsHost {
  /** The server clock. */
  now(): number;
  /** Whether `userId` belongs to `scope`. */
  authorizeScope(userId: string, scope: string): boolean;
}

/** Assets and transfers held in memory; see the module comment. */
export class MemoryAssets {
  readonly #host: MemoryAssetsHost;
  readonly #sessions: MemorySessions;
  readonly #limits: MemoryAssetLimits;
  readonly #assets = new Map<string, StoredAsset>();
  readonly #transfers = new Map<string, TransferRecord>();
  /** Every asset ever deleted by the sweeper, for tests. */
  readonly deleted: string[] = [];

  constructor(host: MemoryAssetsHost, sessions: MemorySessions, limits: MemoryAssetLimits) {
    this.#host = host;
    this.#sessions = sessions;
    this.#limits = limits;
  }

  /** Marks `hash` as referenced by a live delivery: it goes when that delivery ends. */
  markReferenced(hash: string): void {
    const asset = this.#assets.get(hash);
    if (asset !== undefined) asset.referenced = true;
  }

  /** `true` while the server holds bytes of `hash` (complete or not). */
  has(hash: string): boolean {
    return this.#assets.has(hash);
  }

  /** `HEAD /v1/assets/:sha256`. */
  probe(auth: AuthSession, hash: string): AssetProbe {
    const asset = this.#assets.get(hash);
    if (asset === undefined || (!asset.complete && asset.uploaderUserId !== auth.userId)) {
      throw notFound('asset');
    }
    return { offset: asset.held, length: asset.total, complete: asset.complete };
  }

  /** `PUT /v1/assets/:sha256` with one chunk. Answers whether the asset is now complete. */
  upload(
    auth: AuthSession,
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
  ): { complete: boolean } {
    const { sha256, offset, totalSize, chunk } = req;
    if (offset + chunk.length > totalSize) throw invalid('the chunk ends after the total size');
    if (totalSize > this.#limits.maxAssetBytes) {
      throw tooLarge(`an asset may hold at most ${this.#limits.maxAssetBytes} bytes`);
    }
    let asset = this.#assets.get(sha256);
    if (asset?.complete === true) return { complete: true };
    if (asset !== undefined && asset.total !== totalSize) {
      throw conflict('offset_mismatch', 'the asset is being uploaded with another size', {
        offset: asset.held,
      });
    }
    if (asset === undefined) {
      if (this.#bytesOf(auth.userId) + totalSize > this.#limits.maxUserBytes) {
        throw tooLarge('this user has no storage left for the asset');
      }
      asset = {
        chunks: [],
        held: 0,
        total: totalSize,
        complete: false,
        uploaderUserId: auth.userId,
        updatedAt: this.#host.now(),
        referenced: false,
      };
      this.#assets.set(sha256, asset);
    }
    if (offset > asset.held) {
      throw conflict('offset_mismatch', `the server holds ${asset.held} bytes`, {
        offset: asset.held,
      });
    }
    if (offset < asset.held) {
      // A re-sent chunk must match what is held, byte for byte.
      const held = concat(asset.chunks, asset.held);
      const overlap = held.subarray(offset, Math.min(asset.held, offset + chunk.length));
      if (!equalBytes(overlap, chunk.subarray(0, overlap.length))) {
        throw conflict('chunk_mismatch', 'the chunk differs from the bytes the server holds');
      }
      const rest = chunk.subarray(overlap.length);
      if (rest.length > 0) this.#append(asset, rest);
    } else {
      this.#append(asset, chunk);
    }
    if (asset.held < asset.total) return { complete: false };
    const actual = sha256Hex(concat(asset.chunks, asset.held));
    if (actual !== sha256) {
      this.#assets.delete(sha256);
      throw new SyncError('rejected', `the bytes hash to ${actual}, not ${sha256}`, {
        status: 422,
        code: 'hash_mismatch',
      });
    }
    asset.chunks = [concat(asset.chunks, asset.held)];
    asset.complete = true;
    return { complete: true };
  }

  /** `GET /v1/assets/:sha256` with a range. */
  download(auth: AuthSession, req: { sha256: string; start: number; end?: number }): Uint8Array {
    const asset = this.#assets.get(req.sha256);
    if (asset === undefined || !asset.complete || !this.#mayRead(auth, req.sha256)) {
      throw notFound('asset');
    }
    const end = Math.min(req.end ?? asset.total, asset.total);
    if (req.start > end) {
      throw new SyncError('rejected', 'range not satisfiable', { status: 416, code: 'invalid' });
    }
    return (asset.chunks[0] as Uint8Array).slice(req.start, end);
  }

  /** Replaces byte `at` of a held asset (tests: a corrupted blob store). */
  corrupt(hash: string, at: number): void {
    const bytes = this.#assets.get(hash)?.chunks[0];
    if (bytes !== undefined && at < bytes.length) bytes[at] = ((bytes[at] as number) + 1) & 0xff;
  }

  /** `POST /v1/transfers`. */
  createTransfer(auth: AuthSession, body: TransferRequest): TransferRecord {
    const existing = this.#transfers.get(body.id);
    if (existing !== undefined) {
      if (existing.requesterUserId !== auth.userId) {
        throw conflict('conflict', 'this transfer id is taken');
      }
      return structuredClone(existing);
    }
    if (
      !this.#host.authorizeScope(auth.userId, body.scope) ||
      !this.#host.authorizeScope(body.from.userId, body.scope)
    ) {
      throw forbidden(`both users must belong to scope ${body.scope}`);
    }
    const now = this.#host.now();
    const transfer: TransferRecord = {
      id: body.id,
      scope: body.scope,
      assetHash: body.assetHash,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.size === undefined ? {} : { size: body.size }),
      ...(body.mimeType === undefined ? {} : { mimeType: body.mimeType }),
      requesterSessionId: auth.sessionId,
      requesterUserId: auth.userId,
      holderUserId: body.from.userId,
      state: 'pending',
      uploadedBytes: 0,
      downloadedBytes: 0,
      totalBytes: body.size ?? 0,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.#limits.transferTtlSeconds * 1000,
    };
    this.#transfers.set(body.id, transfer);
    return structuredClone(transfer);
  }

  /** `GET /v1/transfers`. */
  listTransfers(auth: AuthSession): TransferRecord[] {
    this.#expireTransfers();
    return [...this.#transfers.values()]
      .filter((t) => t.requesterUserId === auth.userId || t.holderUserId === auth.userId)
      .map((t) => structuredClone(t));
  }

  /** `GET /v1/transfers/:id`. */
  getTransfer(auth: AuthSession, id: string): TransferRecord {
    return structuredClone(this.#party(auth, id));
  }

  /** `POST /v1/transfers/:id/progress`. */
  progress(
    auth: AuthSession,
    req: {
      id: string;
      side: 'upload' | 'download';
      bytesDone: number;
      state?: TransferState;
      error?: string;
    },
  ): TransferRecord {
    const transfer = this.#party(auth, req.id);
    const mine = req.side === 'upload' ? transfer.holderUserId : transfer.requesterUserId;
    if (mine !== auth.userId) throw forbidden(`only the other party reports the ${req.side}`);
    if (req.state === 'completed' && req.side !== 'download') {
      throw forbidden('only the requester completes a transfer, after verifying it');
    }
    if (transfer.state === 'completed' || transfer.state === 'expired') {
      return structuredClone(transfer);
    }
    if (req.side === 'upload') {
      transfer.uploadedBytes = Math.max(transfer.uploadedBytes, req.bytesDone);
    } else {
      transfer.downloadedBytes = Math.max(transfer.downloadedBytes, req.bytesDone);
    }
    const asset = this.#assets.get(transfer.assetHash);
    if (asset !== undefined) transfer.totalBytes = asset.total;
    transfer.state = req.state ?? 'in_progress';
    if (req.error !== undefined) transfer.error = req.error;
    transfer.updatedAt = this.#host.now();
    return structuredClone(transfer);
  }

  /** The users of a transfer (for events). */
  partiesOf(id: string): string[] {
    const t = this.#transfers.get(id);
    return t === undefined ? [] : [t.requesterUserId, t.holderUserId];
  }

  /** Deletes every asset no live delivery or transfer references; returns the deleted hashes. */
  sweep(): string[] {
    this.#expireTransfers();
    const live = this.#sessions.liveAssetHashes();
    for (const t of this.#transfers.values()) {
      if (t.state !== 'completed' && t.state !== 'expired' && t.state !== 'failed') {
        live.add(t.assetHash);
      }
    }
    const removed: string[] = [];
    const graceMs = this.#limits.transferTtlSeconds * 1000;
    for (const [hash, asset] of this.#assets) {
      if (live.has(hash)) {
        asset.referenced = true;
        continue;
      }
      // Uploaded before the delivery that will reference it exists: kept for a grace period.
      if (!asset.referenced && this.#host.now() - asset.updatedAt < graceMs) continue;
      this.#assets.delete(hash);
      removed.push(hash);
    }
    this.deleted.push(...removed);
    return removed;
  }

  #party(auth: AuthSession, id: string): TransferRecord {
    this.#expireTransfers();
    const transfer = this.#transfers.get(id);
    if (
      transfer === undefined ||
      (transfer.requesterUserId !== auth.userId && transfer.holderUserId !== auth.userId)
    ) {
      throw notFound('transfer');
    }
    return transfer;
  }

  #expireTransfers(): void {
    const now = this.#host.now();
    for (const t of this.#transfers.values()) {
      if (now >= t.expiresAt && t.state !== 'completed' && t.state !== 'failed') {
        t.state = 'expired';
        t.updatedAt = now;
      }
    }
  }

  #mayRead(auth: AuthSession, hash: string): boolean {
    if (this.#sessions.mayReadAsset(auth, hash)) return true;
    for (const t of this.#transfers.values()) {
      if (t.assetHash !== hash || t.state === 'expired' || t.state === 'completed') continue;
      if (t.requesterUserId === auth.userId || t.holderUserId === auth.userId) return true;
    }
    return false;
  }

  #append(asset: StoredAsset, bytes: Uint8Array): void {
    asset.chunks.push(bytes.slice());
    asset.held += bytes.length;
    asset.updatedAt = this.#host.now();
  }

  #bytesOf(userId: string): number {
    let total = 0;
    for (const asset of this.#assets.values()) {
      if (asset.uploaderUserId === userId) total += asset.total;
    }
    return total;
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && (chunks[0] as Uint8Array).length === length) {
    return chunks[0] as Uint8Array;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function conflict(code: string, message: string, details?: { offset: number }): SyncError {
  return new SyncError('conflict', message, {
    status: 409,
    code,
    ...(details === undefined ? {} : { details }),
  });
}

function tooLarge(message: string): SyncError {
  return new SyncError('rejected', message, { status: 413, code: 'too_large' });
}
