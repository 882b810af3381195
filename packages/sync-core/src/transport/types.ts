import type { ServerInfo } from '../protocol/server-info.js';
import type {
  CreateTransferRequest,
  DeliveryStatusResponse,
  Transfer,
  TransferProgressRequest,
} from '../protocol/sessions.js';
import type {
  Delivery,
  DeliveryTarget,
  Json,
  Poke,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SessionInfo,
} from '../protocol/types.js';

/** Who is signed in on this device right now. */
export interface AuthSession {
  /** The signed-in user. */
  userId: string;
  /** The auth session id (one per sign-in on a device). */
  sessionId: string;
}

/**
 * Tells the client who is signed in, and when that changes. `null` means signed out: the
 * client keeps working locally and does not sync.
 *
 * Contract: `current()` is synchronous and cheap; `subscribe` calls the listener after every
 * change (sign-in, sign-out, switch of user or session), never for a no-op.
 */
export interface SessionSource {
  /** The current session, or `null` when signed out. */
  current(): AuthSession | null;
  /** Calls `listener` on every change; returns the function that unsubscribes. */
  subscribe(listener: (session: AuthSession | null) => void): () => void;
}

/**
 * Heartbeat, list and revoke of the user's device sessions (DESIGN §5 `/v1/sessions`).
 * Every call may be retried.
 */
export interface SessionTransport {
  /**
   * Marks this session alive; upserts on `(userId, clientId)`, so a new session of the same
   * installation replaces (revokes) the old one.
   */
  heartbeat(
    req: { clientId: string; sessionId: string; label?: string; platform?: string },
    signal?: AbortSignal,
  ): Promise<SessionInfo>;
  /** The signed-in user's sessions. */
  list(signal?: AbortSignal): Promise<SessionInfo[]>;
  /** Revokes one session of the user, or all of them when `sessionId` is omitted. */
  revoke(sessionId?: string, signal?: AbortSignal): Promise<void>;
}

/** Sending, listing and acknowledging deliveries (DESIGN §5 `/v1/deliveries`). */
export interface DeliveryTransport {
  /** Creates a delivery; idempotent on `id`. */
  send(
    req: {
      id: string;
      scope: string;
      kind: string;
      payload?: Json;
      assetHash?: string;
      target: DeliveryTarget;
      /**
       * Lifetime in seconds; absent, the server's default (48 h, or its cap when lower).
       * Absent stays absent on the wire.
       */
      ttlSeconds?: number;
    },
    signal?: AbortSignal,
  ): Promise<Delivery>;
  /** Deliveries waiting for the calling session. */
  pending(signal?: AbortSignal): Promise<Delivery[]>;
  /**
   * Acknowledges one delivery for the calling session; idempotent. A delivery this session
   * does not receive, or one that expired, rejects with a `rejected` SyncError of status 404.
   */
  ack(id: string, signal?: AbortSignal): Promise<{ complete: boolean }>;
  /** The sender's view of one delivery; a 404 `rejected` SyncError for anyone else. */
  status?(id: string, signal?: AbortSignal): Promise<DeliveryStatusResponse>;
}

/** What the server holds of an asset (`HEAD /v1/assets/:sha256`). */
export interface AssetProbe {
  /** Bytes held (the offset the next chunk must start at). */
  offset: number;
  /** Total size, when known. */
  length?: number;
  /** Every byte is held and the hash was verified. */
  complete: boolean;
}

/** Chunked, resumable transfer of content-addressed blobs (DESIGN §5 `/v1/assets`). */
export interface AssetTransport {
  /** How many bytes of the asset the server already holds. */
  uploadedOffset(sha256: string, signal?: AbortSignal): Promise<number>;
  /** What the server holds of the asset; feature-detected (`uploadedOffset` otherwise). */
  probe?(sha256: string, signal?: AbortSignal): Promise<AssetProbe>;
  /**
   * Uploads `chunk` at `offset` of an asset of `totalSize` bytes. Rejects with a `conflict`
   * SyncError (code `offset_mismatch`, `details.offset`) when the server holds another offset,
   * `rejected` code `hash_mismatch` when the last chunk completes bytes of another hash (the
   * server dropped them), `rejected` status 413 when the asset is too large.
   */
  uploadChunk(
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Whether the server takes uploads by id ({@link AssetTransport.uploadChunkById}); asked
   * before a send of a stream or a Blob. Feature-detected with the two methods below: without
   * all three, or when it resolves `false` (an older server), every upload is addressed by
   * its hash, the whole source read and hashed first.
   */
  uploadsById?(signal?: AbortSignal): Promise<boolean>;
  /**
   * Uploads `chunk` at `offset` of the upload `uploadId` (an id the client makes), for an
   * asset whose hash is not known yet: `totalSize` once known, and the last chunk (ending at
   * `totalSize`; empty when the bytes are all held already) names the asset's `sha256`, which
   * the server checks before the bytes become the user's copy. Rejects like `uploadChunk`,
   * and with a `rejected` SyncError of status 404 when the server has no such upload (it was
   * swept: start again from the first byte).
   */
  uploadChunkById?(
    req: {
      uploadId: string;
      offset: number;
      chunk: Uint8Array;
      totalSize?: number;
      sha256?: string;
    },
    signal?: AbortSignal,
  ): Promise<void>;
  /** How many bytes of the upload `uploadId` the server holds (0 when it has none). */
  uploadedOffsetById?(uploadId: string, signal?: AbortSignal): Promise<number>;
  /**
   * The transport is done with a chunk's bytes once `uploadChunk` resolved (they were sent, or
   * copied): the client may then read a later chunk into the same buffer instead of a new one.
   * Leave it out when the transport keeps a chunk's bytes after that (e.g. gathers chunks into
   * larger parts).
   * @default false
   */
  readonly chunksReleased?: boolean;
  /** Reads bytes `[start, end)` of an asset (to its end when `end` is omitted). */
  download(
    req: { sha256: string; start: number; end?: number },
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
  /**
   * Reads bytes `[start, end)` of an asset as a stream; feature-detected (`download` per chunk
   * otherwise). The client hashes and stores the bytes as they arrive, so one request carries
   * the whole rest of an asset without holding it in memory.
   */
  downloadStream?(
    req: { sha256: string; start: number; end: number },
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
}

/** Transfers on request (`/v1/transfers`). Every call may be retried. */
export interface TransferTransport {
  /** Creates a transfer (and its request delivery to the holder); idempotent on `id`. */
  create(req: CreateTransferRequest, signal?: AbortSignal): Promise<Transfer>;
  /** Transfers where the caller's user is requester or holder. */
  list(signal?: AbortSignal): Promise<Transfer[]>;
  /** One transfer. */
  get(id: string, signal?: AbortSignal): Promise<Transfer>;
  /** Reports progress of one side; `completed` only by the requester after verification. */
  progress(req: TransferProgressRequest & { id: string }, signal?: AbortSignal): Promise<Transfer>;
}

/**
 * A realtime hint about sessions, deliveries or transfers (never needed for correctness). A
 * `delivery` hint may carry the new delivery itself (validated by the adapter): the client then
 * handles it at once instead of listing its pending deliveries.
 */
export type SessionEvent =
  | { type: 'session' }
  | { type: 'delivery'; id: string; delivery?: Delivery }
  | { type: 'transfer'; id: string };

/** What the client asks {@link SyncTransport.subscribe} for. */
export interface SubscribeOptions {
  /** The scopes whose changes to hear about: the client's scopes (an array the transport may keep). */
  scopes: string[];
  /**
   * Called with each poke: one of `scopes` changed on the server, so the client pulls it. Call it
   * only for a scope in `scopes`, with a `version` that is an integer >= 0. A page the poke
   * carries (`fromCheckpoint`, `checkpoint`, `changes`) may be handed over unchecked, like a pull
   * answer: the client checks it as a pull page before applying it, and reports one that fails
   * in its status.
   */
  onPoke: (poke: Poke) => void;
  /**
   * Called on every (re)connection, once the server accepted the subscription: the client then
   * pulls every scope to catch up on what it may have missed while not connected.
   */
  onConnect?: () => void;
}

/**
 * What an adapter implements so the client can sync through it. `push` and `pull` are
 * required; the rest is feature-detected.
 *
 * Error contract: every method rejects only with a `SyncError` whose `kind` says whether to
 * retry (`network`, `timeout`, `server`, `rate-limited` with `retryAfterMs`, and
 * `misconfigured` for an answer that is not a syncline answer at all) or not (`auth`,
 * `rejected`: only a syncline answer about the request's content may reject). A push may be retried any number of times: the server deduplicates by mutation
 * id. Per-mutation outcomes (applied, conflict, rejected) are data in the `PushResponse`, not
 * errors.
 */
export interface SyncTransport {
  /** Sends mutations; resolves with one result per mutation, in order. */
  push(req: PushRequest, signal?: AbortSignal): Promise<PushResponse>;
  /**
   * How the backend numbers revisions. `'scope'`: a record's revision is its scope's version at
   * the write (DESIGN §2; the syncline server and Supabase), so revisions order every change of
   * a scope. `'record'`: each record counts its own (a resource API). With `'scope'` the client
   * can tell that a push answer replayed from long ago (a stored outcome, DESIGN §3.2) is about a
   * record deleted since and its tombstone purged, and does not bring that record back.
   * @default 'record'
   */
  readonly revisions?: 'scope' | 'record';
  /** Reads one page of changes of one scope after a checkpoint. */
  pull(req: PullRequest, signal?: AbortSignal): Promise<PullResponse>;
  /**
   * Realtime hints: calls `options.onPoke` when one of `options.scopes` changed, and
   * `options.onConnect` on every (re)connection. Returns the function that unsubscribes.
   * Correctness never depends on it.
   *
   * It takes one {@link SubscribeOptions} object. The positional form of earlier versions,
   * `subscribe(scopes, onPoke, onConnect)`, is refused by `createSyncClient` with a
   * `SyncError('invalid')` (recognised by the function declaring more than one parameter).
   *
   * @example
   * ```ts
   * subscribe({ scopes, onPoke, onConnect }) {
   *   const socket = openSocket(scopes, { onOpen: onConnect, onMessage: onPoke });
   *   return () => socket.close();
   * }
   * ```
   */
  subscribe?(options: SubscribeOptions): () => void;
  /**
   * A cheap reachability check (the REST adapter asks `GET /healthz`): resolves when the server
   * answers at all, rejects with a `network` SyncError when it cannot be reached. With it, a
   * client whose requests fail with `network` probes every few seconds and resumes at the
   * first answer, instead of waiting out a backoff of up to a minute.
   */
  probe?(signal?: AbortSignal): Promise<void>;
  /**
   * The server's limits (`GET /v1/info`). The client asks once per sign-in and refuses a write
   * over `maxRecordBytes` at `put`/`patch`. Rejects like `push` does.
   */
  info?(signal?: AbortSignal): Promise<ServerInfo>;
  /** Who is signed in. Without it the client stays local (signed out). */
  session?: SessionSource;
  /** Device sessions. */
  sessions?: SessionTransport;
  /** Deliveries to sessions. */
  deliveries?: DeliveryTransport;
  /** Asset transfer. */
  assets?: AssetTransport;
  /** Transfers on request. */
  transfers?: TransferTransport;
  /**
   * Session, delivery and transfer hints from the event stream. Calls `onConnect` on every
   * (re)connection, when the client lists what it may have missed. Returns the function that
   * unsubscribes.
   */
  sessionEvents?(listener: (event: SessionEvent) => void, onConnect?: () => void): () => void;
}
