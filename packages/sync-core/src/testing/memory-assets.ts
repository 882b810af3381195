/**
 * Assets and transfers of the in-memory server, with the semantics of the wire contract
 * (`/v1/assets/:sha256`, `/v1/transfers`): each user uploads their own copy (the upload proves
 * possession, so knowing a hash grants nothing), chunked uploads continue at the held offset,
 * the last chunk is verified, ranged reads only for the parties of a live delivery or transfer,
 * size limits, and deletion once nothing live references a copy.
 *
 * @module
 */
import { sha256Hex } from '../assets/sha256.js';
import { SyncError } from '../errors/sync-error.js';
import type {
  CreateTransferRequest,
  Transfer,
  TransferProgressRequest,
} from '../protocol/sessions.js';
import type { AssetProbe, AuthSession } from '../transport/types.js';
import { forbidden, invalid, type MemorySessions, notFound } from './memory-sessions.js';

interface StoredAsset {
  chunks: Uint8Array[];
  held: number;
  total: number;
  complete: boolean;
  updatedAt: number;
  /** A live delivery or transfer referenced it once; until then it is kept for a grace period. */
  referenced: boolean;
}

/** Limits of the in-memory asset store. */
export interface MemoryAssetLimits {
  /** Largest asset in bytes. */
  maxAssetBytes: number;
  /** Bytes one user may hold across their copies. */
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
  /** A transfer changed (its parties get an event). */
  transferChanged(id: string): void;
}

const FINAL = new Set(['completed', 'failed', 'expired']);

function copyKey(userId: string, hash: string): string {
  return `${userId}\n${hash}`;
}

/** Assets and transfers held in memory; see the module comment. */
export class MemoryAssets {
  readonly #host: MemoryAssetsHost;
  readonly #sessions: MemorySessions;
  readonly #limits: MemoryAssetLimits;
  /** Copies by `userId \n sha256`. */
  readonly #copies = new Map<string, StoredAsset>();
  readonly #transfers = new Map<string, Transfer>();

  constructor(host: MemoryAssetsHost, sessions: MemorySessions, limits: MemoryAssetLimits) {
    this.#host = host;
    this.#sessions = sessions;
    this.#limits = limits;
  }

  /** `true` while the server holds bytes of `hash` in any user's copy. */
  has(hash: string): boolean {
    for (const key of this.#copies.keys()) if (key.endsWith(`\n${hash}`)) return true;
    return false;
  }

  /** `true` when `userId`'s copy of `hash` is complete. */
  hasComplete(userId: string, hash: string): boolean {
    return this.#copies.get(copyKey(userId, hash))?.complete === true;
  }

  /** Marks `userId`'s copy as referenced by a live delivery: it goes when that delivery ends. */
  markReferenced(userId: string, hash: string): void {
    const asset = this.#copies.get(copyKey(userId, hash));
    if (asset !== undefined) asset.referenced = true;
  }

  /** `HEAD /v1/assets/:sha256`. */
  probe(auth: AuthSession, hash: string): AssetProbe {
    const own = this.#copies.get(copyKey(auth.userId, hash));
    if (own !== undefined) return { offset: own.held, length: own.total, complete: own.complete };
    const readable = this.#readable(auth, hash);
    if (readable === undefined) throw notFound('asset');
    return { offset: readable.total, length: readable.total, complete: true };
  }

  /** `PUT /v1/assets/:sha256` with one chunk. */
  upload(
    auth: AuthSession,
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
  ): { complete: boolean } {
    const { sha256, offset, totalSize, chunk } = req;
    if (offset + chunk.length > totalSize) throw invalid('the chunk ends after the total size');
    if (totalSize > this.#limits.maxAssetBytes) {
      throw tooLarge(`an asset may hold at most ${this.#limits.maxAssetBytes} bytes`);
    }
    const key = copyKey(auth.userId, sha256);
    let asset = this.#copies.get(key);
    if (asset?.complete === true) return { complete: true };
    if (asset !== undefined && asset.total !== totalSize) {
      throw conflict('length_mismatch', `the upload in progress has ${asset.total} bytes`);
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
        updatedAt: this.#host.now(),
        referenced: false,
      };
      this.#copies.set(key, asset);
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
    this.#uploadedForTransfers(auth.userId, sha256, asset.held, asset.total);
    if (asset.held < asset.total) return { complete: false };
    const bytes = concat(asset.chunks, asset.held);
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      this.#copies.delete(key);
      throw new SyncError('rejected', `the bytes hash to ${actual}, not ${sha256}`, {
        status: 422,
        code: 'hash_mismatch',
      });
    }
    asset.chunks = [bytes];
    asset.complete = true;
    return { complete: true };
  }

  /** `GET /v1/assets/:sha256` with a range. */
  download(auth: AuthSession, req: { sha256: string; start: number; end?: number }): Uint8Array {
    const own = this.#copies.get(copyKey(auth.userId, req.sha256));
    const asset = own?.complete === true ? own : this.#readable(auth, req.sha256);
    if (asset === undefined) throw notFound('asset');
    const end = Math.min(req.end ?? asset.total, asset.total);
    if (req.start > end) {
      throw new SyncError('rejected', 'range not satisfiable', { status: 416, code: 'invalid' });
    }
    return (asset.chunks[0] ?? new Uint8Array()).slice(req.start, end);
  }

  /** Changes byte `at` of every held copy of `hash` (tests: a corrupted blob store). */
  corrupt(hash: string, at: number): void {
    for (const [key, asset] of this.#copies) {
      const bytes = asset.chunks[0];
      if (key.endsWith(`\n${hash}`) && bytes !== undefined && at < bytes.length) {
        bytes[at] = ((bytes[at] as number) + 1) & 0xff;
      }
    }
  }

  /** `POST /v1/transfers`. */
  createTransfer(
    auth: AuthSession,
    body: CreateTransferRequest,
  ): { transfer: Transfer; created: boolean } {
    const existing = this.#transfers.get(body.id);
    if (existing !== undefined) {
      if (existing.requesterUserId !== auth.userId) {
        throw conflict('conflict', 'this transfer id is taken');
      }
      return { transfer: structuredClone(existing), created: false };
    }
    if (
      !this.#host.authorizeScope(auth.userId, body.scope) ||
      !this.#host.authorizeScope(body.from.userId, body.scope)
    ) {
      throw forbidden(`both users must belong to scope ${body.scope}`);
    }
    const now = this.#host.now();
    const transfer: Transfer = {
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
    return { transfer: structuredClone(transfer), created: true };
  }

  /** `GET /v1/transfers`: newest first. */
  listTransfers(auth: AuthSession): Transfer[] {
    this.#expireTransfers();
    return [...this.#transfers.values()]
      .filter((t) => t.requesterUserId === auth.userId || t.holderUserId === auth.userId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((t) => structuredClone(t));
  }

  /** `GET /v1/transfers/:id`. */
  getTransfer(auth: AuthSession, id: string): Transfer {
    return structuredClone(this.#party(auth, id));
  }

  /** `POST /v1/transfers/:id/progress`. */
  progress(auth: AuthSession, id: string, req: TransferProgressRequest): Transfer {
    const transfer = this.#party(auth, id);
    const mine = req.side === 'upload' ? transfer.holderUserId : transfer.requesterUserId;
    if (mine !== auth.userId) throw forbidden(`only the other party reports the ${req.side}`);
    if (req.state === 'completed' && req.side !== 'download') {
      throw forbidden('only the requester completes a transfer, after verifying it');
    }
    if (FINAL.has(transfer.state)) {
      throw conflict('transfer_final', `the transfer is already ${transfer.state}`);
    }
    if (req.side === 'upload') {
      transfer.uploadedBytes = Math.max(transfer.uploadedBytes, req.bytesDone);
    } else {
      transfer.downloadedBytes = Math.max(transfer.downloadedBytes, req.bytesDone);
    }
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

  /**
   * Deletes every copy no live delivery or transfer references (one never referenced yet is
   * kept for a grace period: it is uploaded before its delivery exists). Returns the hashes.
   */
  sweep(): string[] {
    this.#expireTransfers();
    const live = new Set(
      this.#sessions.liveAssetCopies().map(({ userId, hash }) => copyKey(userId, hash)),
    );
    for (const t of this.#transfers.values()) {
      if (!FINAL.has(t.state)) live.add(copyKey(t.holderUserId, t.assetHash));
    }
    const removed: string[] = [];
    const graceMs = this.#limits.transferTtlSeconds * 1000;
    for (const [key, asset] of this.#copies) {
      if (live.has(key)) {
        asset.referenced = true;
        continue;
      }
      if (!asset.referenced && this.#host.now() - asset.updatedAt < graceMs) continue;
      this.#copies.delete(key);
      removed.push(key.slice(key.indexOf('\n') + 1));
    }
    return removed;
  }

  #uploadedForTransfers(userId: string, hash: string, held: number, total: number): void {
    for (const t of this.#transfers.values()) {
      if (t.holderUserId !== userId || t.assetHash !== hash || FINAL.has(t.state)) continue;
      t.state = 'in_progress';
      t.uploadedBytes = held;
      t.totalBytes = total;
      t.updatedAt = this.#host.now();
      this.#host.transferChanged(t.id);
    }
  }

  /** The complete copy `auth` may read through a live delivery or transfer. */
  #readable(auth: AuthSession, hash: string): StoredAsset | undefined {
    this.#expireTransfers(); // a transfer past its TTL grants nothing, listed since or not
    const owner = this.#sessions.readableCopyOwner(auth, hash);
    if (owner !== undefined) {
      const copy = this.#copies.get(copyKey(owner, hash));
      if (copy?.complete === true) return copy;
    }
    for (const t of this.#transfers.values()) {
      if (t.assetHash !== hash || t.state === 'expired' || t.state === 'failed') continue;
      if (t.requesterUserId !== auth.userId && t.holderUserId !== auth.userId) continue;
      const copy = this.#copies.get(copyKey(t.holderUserId, hash));
      if (copy?.complete === true) return copy;
    }
    return undefined;
  }

  #party(auth: AuthSession, id: string): Transfer {
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
      if (now >= t.expiresAt && !FINAL.has(t.state)) {
        t.state = 'expired';
        t.updatedAt = now;
      }
    }
  }

  #append(asset: StoredAsset, bytes: Uint8Array): void {
    asset.chunks.push(bytes.slice());
    asset.held += bytes.length;
    asset.updatedAt = this.#host.now();
  }

  #bytesOf(userId: string): number {
    let total = 0;
    for (const [key, asset] of this.#copies) {
      if (key.startsWith(`${userId}\n`)) total += asset.total;
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
