/**
 * The database side of session targeting: what the HTTP routes and the sweeper need from a
 * store. The SQL stores implement it (`sql-targeting-store.ts`); a store without it answers
 * the targeting routes with 404.
 *
 * Every time is the store's clock (the server clock): activity, expiry and completion are
 * judged there, never on a client's clock.
 *
 * @module
 */
import type {
  Delivery,
  DeliveryStatus,
  SendDeliveryRequest,
  SessionInfo,
  Transfer,
  TransferProgressRequest,
} from '@syncline/sync-core/protocol';
import type { AuthContext } from '../store/types.js';

/** A hint for the event streams: which streams should hear of what. */
export interface TargetingEvent {
  /** What changed. */
  type: 'delivery' | 'session' | 'transfer';
  /** The delivery or transfer id (absent for `session`). */
  id?: string;
  /** The user whose streams hear it. */
  userId: string;
  /** Only these sessions of the user (absent: every session of the user). */
  sessionIds?: string[];
  /** The session that caused it, which does not hear it. */
  originSessionId?: string;
  /**
   * A new delivery itself (type `delivery`), so that a receiving session need not list its
   * pending deliveries to get it. Left out when it does not fit a notification.
   */
  delivery?: Delivery;
}

/** A user's copy of an asset (see the `assets` table). */
export interface AssetCopy {
  /** The owner of the copy. */
  userId: string;
  /** Content hash. */
  sha256: string;
  /** Name of the bytes in the BlobStore. */
  blobKey: string;
  /** Declared size. */
  totalBytes: number;
  /** Bytes held (the upload offset). */
  receivedBytes: number;
  /** All bytes held and their hash verified. */
  complete: boolean;
}

/** How {@link TargetingStore.createDelivery} ended. */
export type CreateDeliveryOutcome =
  | { type: 'created' | 'repeated'; delivery: Delivery }
  | { type: 'conflict' | 'asset_missing' };

/** How a transfer operation ended. */
export type TransferOutcome =
  | { type: 'ok'; transfer: Transfer; created?: true }
  | { type: 'not_found' | 'conflict' | 'final' | 'forbidden'; message?: string };

/** How {@link TargetingStore.beginUpload} ended. */
export type BeginUploadOutcome =
  | { type: 'ok'; copy: AssetCopy }
  | { type: 'too_large'; message: string }
  | { type: 'length_mismatch'; totalBytes: number };

/** A user's upload by id (see the `uploads_by_id` table): its hash is named at the end. */
export interface AssetUpload {
  /** Name of the bytes in the BlobStore. */
  blobKey: string;
  /** Declared size; `undefined` while the client has not declared it. */
  totalBytes: number | undefined;
  /** Bytes held (the upload offset). */
  receivedBytes: number;
  /**
   * Bytes it counts against the user's storage quota: its declared size, or, undeclared, the
   * larger of its offset and the end the quota last let it grow to
   * ({@link TargetingStore.growUploadById}).
   */
  countedBytes: number;
}

/** How {@link TargetingStore.growUploadById} ended. */
export type GrowUploadOutcome = { type: 'ok' } | { type: 'too_large'; message: string };

/** How {@link TargetingStore.beginUploadById} ended. */
export type BeginUploadByIdOutcome =
  | { type: 'ok'; upload: AssetUpload }
  | { type: 'too_large'; message: string };

/**
 * How {@link TargetingStore.finishUploadById} ended: the copy `created`, or already `held`
 * complete by the user, or the upload `gone` (swept, or not at the size it was finished at),
 * or over the quota (`too_large`, nothing kept). `dropBlobKeys` are bytes the caller deletes.
 */
export type FinishUploadOutcome =
  | { type: 'created' | 'held' | 'gone'; dropBlobKeys: string[] }
  | { type: 'too_large'; message: string; dropBlobKeys: string[] };

/** What one sweep did. */
export interface SweepResult {
  /** Deliveries that passed their TTL unacknowledged in this sweep. */
  expiredDeliveries: number;
  /** Deliveries found complete (their remaining targets went stale or were revoked). */
  completedDeliveries: number;
  /** Transfers that passed their TTL in this sweep. */
  expiredTransfers: number;
  /** Blob keys of asset copies removed from the database; the caller deletes their bytes. */
  releasedBlobKeys: string[];
  /** Ended deliveries and transfers removed after their retention. */
  purged: number;
}

/** Settings of the targeting store. */
export interface TargetingPolicy {
  /**
   * A session silent for longer is stale: no longer targeted nor waited for.
   * @default 86_400_000 (24 h)
   */
  sessionActiveWindowMs: number;
  /**
   * An asset copy that no delivery or transfer ever used is kept this long after its last
   * upload activity (a copy a delivery or transfer used goes as soon as none needs it).
   * @default 3_600_000 (1 h)
   */
  assetGraceMs: number;
  /**
   * Ended (completed or expired) deliveries and transfers are kept this long for status
   * reads, then purged by the sweeper. @default 604_800_000 (7 days)
   */
  endedRetentionMs: number;
}

/**
 * What a revocation did (`TargetingStore.revokeSession`, `revokeAllSessions`). The deliveries
 * that waited only on the revoked sessions completed in the same transaction.
 */
export interface RevocationOutcome {
  /** Sessions revoked: 0 when the user had no such (unrevoked) session. */
  revoked: number;
  /**
   * Asset copies those completions left unneeded (no live delivery or transfer references
   * them), removed from the database; the caller deletes their bytes.
   */
  releasedBlobKeys: string[];
}

/** What a heartbeat did (`TargetingStore.heartbeat`). */
export interface HeartbeatOutcome {
  /** The calling session as stored now. */
  session: SessionInfo;
  /**
   * When it replaced the device's previous session (a re-login), the copies that the
   * deliveries it completed left unneeded, as in {@link RevocationOutcome}; otherwise empty.
   */
  releasedBlobKeys: string[];
}

/** The database side of session targeting. See the module doc. */
export interface TargetingStore {
  /**
   * `true` when no other server process uses this store's database (PGlite): the asset routes
   * then record an upload by id's offset in the database at most about once a second and at
   * its last chunk, keeping it in this process in between (a restart resumes the upload from
   * the offset recorded). Left out: every chunk's offset is recorded before it is answered.
   */
  readonly singleProcess?: boolean;
  /**
   * Upserts the calling session on `(userId, clientId)`; a replaced session id is revoked, and
   * what waited only on it completes in the same transaction. `null` when the calling session
   * itself is revoked (a heartbeat racing a revocation never brings the session back).
   */
  heartbeat(
    auth: AuthContext,
    request: { clientId: string; label?: string; platform?: string },
  ): Promise<HeartbeatOutcome | null>;
  /** The user's sessions, revoked ones excluded, most recently seen first. */
  listSessions(userId: string): Promise<SessionInfo[]>;
  /**
   * Revokes one session of the user (`revoked: 0` when the user has no such session); what
   * waited only on it completes in the same transaction.
   */
  revokeSession(auth: AuthContext, sessionId: string): Promise<RevocationOutcome>;
  /** Revokes every session of the user, the calling one included, as {@link revokeSession}. */
  revokeAllSessions(auth: AuthContext): Promise<RevocationOutcome>;
  /** `true` when the caller's session was revoked (or replaced by a re-login). */
  isRevoked(auth: AuthContext): Promise<boolean>;
  /** The active sessions of `userIds` (ids per user). */
  activeSessions(userIds: readonly string[]): Promise<Array<{ userId: string; sessionId: string }>>;

  /**
   * Creates a delivery with its users and fixed targets (the active sessions of `users`,
   * restricted to `onlySessions` when given, minus the origin), in one transaction. A repeated
   * id of the same user answers the stored delivery; another user's id is a conflict.
   */
  createDelivery(
    auth: AuthContext,
    request: SendDeliveryRequest & { ttlSeconds: number },
    users: readonly string[],
  ): Promise<CreateDeliveryOutcome>;
  /** Live deliveries the calling session may receive and has not acknowledged, oldest first. */
  pendingDeliveries(auth: AuthContext): Promise<Delivery[]>;
  /** A delivery and its status, for the sender's user only. */
  deliveryStatus(
    auth: AuthContext,
    id: string,
  ): Promise<{ delivery: Delivery; status: DeliveryStatus } | undefined>;
  /**
   * Acknowledges a live delivery for the calling session and completes it when every still
   * active target has acknowledged. `undefined` when the session may not receive it, it is
   * unknown, or it is no longer live: the same answer for all three. `releasedBlobKeys` are
   * asset copies no live delivery or transfer needs any more (the caller deletes their bytes).
   */
  ackDelivery(
    auth: AuthContext,
    id: string,
  ): Promise<{ complete: boolean; releasedBlobKeys: string[] } | undefined>;

  /** The caller's own copy of an asset. */
  ownCopy(userId: string, sha256: string): Promise<AssetCopy | undefined>;
  /** A complete copy the caller may read (as sender or receiver of a live delivery, or party of a live transfer). */
  readableCopy(auth: AuthContext, sha256: string): Promise<AssetCopy | undefined>;
  /** Starts (or finds) the user's upload of an asset of `totalBytes`, under the size limits. */
  beginUpload(
    userId: string,
    sha256: string,
    totalBytes: number,
    limits: { maxAssetBytes: number; maxUserStorageBytes: number },
  ): Promise<BeginUploadOutcome>;
  /** Moves the upload offset from `from` to `to`; `false` when the offset was not `from` any more. */
  advanceUpload(userId: string, sha256: string, from: number, to: number): Promise<boolean>;
  /** Marks the copy complete (its hash verified). */
  completeUpload(userId: string, sha256: string): Promise<void>;
  /** Drops the copy (its hash did not match); returns its blob key. */
  dropUpload(userId: string, sha256: string): Promise<string | undefined>;
  /** The user's upload by id (another user's id is not found). */
  ownUploadById(userId: string, uploadId: string): Promise<AssetUpload | undefined>;
  /**
   * Starts (or finds) the user's upload `uploadId`, under the quota: its declared size, or
   * `firstEnd` (the first chunk's end) while undeclared, counts against it.
   */
  beginUploadById(
    userId: string,
    uploadId: string,
    size: { totalBytes: number | undefined; firstEnd: number },
    limits: { maxAssetBytes: number; maxUserStorageBytes: number },
  ): Promise<BeginUploadByIdOutcome>;
  /**
   * Lets the user's upload `uploadId`, of a size not declared at its start, hold `to` bytes
   * (asked before a chunk past {@link AssetUpload.countedBytes} is written), or refuses when
   * the user's storage (every copy, and every upload at its size or as far as it was let
   * grow, in every process) would pass `maxUserStorageBytes`. Decisions of one user are made
   * one at a time. An upload gone answers `ok` (its offset's update then fails).
   */
  growUploadById(
    userId: string,
    uploadId: string,
    to: number,
    limits: { maxUserStorageBytes: number },
  ): Promise<GrowUploadOutcome>;
  /** Moves the offset of an upload by id from `from` to `to`; `false` when it was not `from`. */
  advanceUploadById(userId: string, uploadId: string, from: number, to: number): Promise<boolean>;
  /**
   * Turns a finished upload by id, its bytes hashed to `sha256`, into the user's copy.
   * `recordedBytes` (default `totalBytes`) is the offset the upload's row must hold: the last
   * chunks' end is recorded by the finish itself (`gone` when the row holds another offset).
   */
  finishUploadById(
    userId: string,
    uploadId: string,
    asset: { sha256: string; totalBytes: number; recordedBytes?: number },
    limits: { maxUserStorageBytes: number },
  ): Promise<FinishUploadOutcome>;
  /** Drops an upload by id; returns its blob key. */
  dropUploadById(userId: string, uploadId: string): Promise<string | undefined>;

  /** Creates a transfer and its request delivery to the holder's sessions. */
  createTransfer(
    auth: AuthContext,
    request: {
      id: string;
      scope: string;
      assetHash: string;
      name?: string;
      size?: number;
      mimeType?: string;
      holderUserId: string;
    },
  ): Promise<TransferOutcome>;
  /** The transfers the user requested or holds, newest first. */
  listTransfers(userId: string): Promise<Transfer[]>;
  /** One transfer, to its requester's or holder's user only. */
  getTransfer(userId: string, id: string): Promise<Transfer | undefined>;
  /** Records progress (holder: upload, requester: download) and state changes. */
  reportProgress(
    auth: AuthContext,
    id: string,
    report: TransferProgressRequest,
  ): Promise<TransferOutcome & { releasedBlobKeys?: string[] }>;

  /** Which of `blobKeys` still belong to an asset copy or an upload by id. */
  knownBlobKeys(blobKeys: readonly string[]): Promise<Set<string>>;
  /** Expires, completes and purges; releases unreferenced asset copies. */
  sweep(): Promise<SweepResult>;
  /** Listens to targeting events of every server process on the database. */
  onEvent(listener: (event: TargetingEvent) => void): () => void;
}
