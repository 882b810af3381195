/**
 * Wire types of session targeting: sessions, deliveries, assets and transfers (DESIGN §2,
 * `SESSIONS-WIRE`). The request bodies the server reads and the answers a client reads; their
 * validators are in `validate-sessions.ts`. Everything here is plain JSON.
 *
 * @module
 */
import type { Delivery, DeliveryTarget, Json, SessionInfo } from './types.js';

/** Body of `POST /v1/sessions/heartbeat`: marks the calling session alive. */
export interface HeartbeatRequest {
  /** The installation (stable across reloads and re-logins). */
  clientId: string;
  /** The calling session; must be the token's session. */
  sessionId: string;
  /** A human label, e.g. "Firefox on Linux" (at most 200 characters). */
  label?: string;
  /** The platform, e.g. "web", "ios", "electron" (at most 100 characters). */
  platform?: string;
}

/** Answer to `POST /v1/sessions/heartbeat`. */
export interface HeartbeatResponse {
  /** The calling session as the server now holds it. */
  session: SessionInfo;
}

/** Answer to `GET /v1/sessions`: the caller's user's sessions, revoked ones excluded. */
export interface SessionListResponse {
  /** Most recently seen first. */
  sessions: SessionInfo[];
}

/** Body of `POST /v1/deliveries`. */
export interface SendDeliveryRequest {
  /** Unique id (a lowercase UUID); the idempotency key. */
  id: string;
  /** The scope the delivery belongs to; the sender must be allowed to write it. */
  scope: string;
  /** App-defined kind (1–128 characters, no control character). */
  kind: string;
  /** App payload (JSON under the protocol's data limits). */
  payload?: Json;
  /** sha256 (64 lowercase hex digits) of an attached asset. */
  assetHash?: string;
  /** Who receives it. */
  target: DeliveryTarget;
  /**
   * Lifetime in seconds (server clock); above the server's cap, a 400 `invalid`.
   * @default 172800 (48 h), or the server's cap (`maxDeliveryTtlSeconds`) when that is lower
   */
  ttlSeconds?: number;
}

/** Answer to `POST /v1/deliveries` (201, or 200 for a repeated id). */
export interface DeliveryResponse {
  /** The delivery as stored. */
  delivery: Delivery;
}

/** Answer to `GET /v1/deliveries?pending=1`. */
export interface PendingDeliveriesResponse {
  /** Live deliveries the calling session has not acknowledged, oldest first. */
  deliveries: Delivery[];
}

/** Acknowledgement state of a delivery, as its sender's user sees it. */
export interface DeliveryStatus {
  /** Session ids fixed as targets at creation. */
  targets: string[];
  /** Session ids that acknowledged (targets and later sessions alike). */
  acked: string[];
  /** Every still-active target acknowledged. */
  complete: boolean;
  /** The TTL passed before completion. */
  expired: boolean;
}

/** Answer to `GET /v1/deliveries/:id` (only to sessions of the sender's user). */
export interface DeliveryStatusResponse {
  /** The delivery. */
  delivery: Delivery;
  /** Its acknowledgement state. */
  status: DeliveryStatus;
}

/** Answer to `POST /v1/deliveries/:id/ack`. */
export interface AckResponse {
  /** The delivery is now complete. */
  complete: boolean;
}

/** Answer to the last chunk of an upload (201) or to a PUT of a complete asset (200). */
export interface AssetUploadResponse {
  /** The asset's sha256, lowercase hex. */
  sha256: string;
  /** Its size in bytes. */
  size: number;
}

/** Where a transfer is. `completed`, `failed` and `expired` are final. */
export type TransferState = 'pending' | 'in_progress' | 'completed' | 'failed' | 'expired';

/** A request for an asset that only another user's device holds (DESIGN §2). */
export interface Transfer {
  /** Unique id (a lowercase UUID). */
  id: string;
  /** The shared scope both users belong to. */
  scope: string;
  /** sha256 of the asset. */
  assetHash: string;
  /** File name, as the requester saw it listed. */
  name?: string;
  /** Size in bytes, as the requester saw it listed. */
  size?: number;
  /** Media type. */
  mimeType?: string;
  /** The session that asked. */
  requesterSessionId: string;
  /** The user who asked. */
  requesterUserId: string;
  /** The user whose device holds the asset. */
  holderUserId: string;
  /** Where it is. */
  state: TransferState;
  /** Bytes the holder has uploaded. */
  uploadedBytes: number;
  /** Bytes the requester has downloaded. */
  downloadedBytes: number;
  /** Total bytes (0 while unknown). */
  totalBytes: number;
  /** Why it failed. */
  error?: string;
  /** Epoch milliseconds (server clock). */
  createdAt: number;
  /** Epoch milliseconds (server clock). */
  updatedAt: number;
  /** Epoch milliseconds (server clock). */
  expiresAt: number;
}

/** Body of `POST /v1/transfers`. */
export interface CreateTransferRequest {
  /** Unique id (a lowercase UUID); the idempotency key. */
  id: string;
  /** The shared scope; requester and holder must both belong to it. */
  scope: string;
  /** sha256 of the wanted asset. */
  assetHash: string;
  /** File name (at most 1024 characters). */
  name?: string;
  /** Size in bytes. */
  size?: number;
  /** Media type (at most 255 characters). */
  mimeType?: string;
  /** Who holds it. */
  from: { userId: string };
}

/** Body of `POST /v1/transfers/:id/progress`. */
export interface TransferProgressRequest {
  /** `upload` from the holder, `download` from the requester. */
  side: 'upload' | 'download';
  /** Bytes done so far on that side. */
  bytesDone: number;
  /** A new state: `in_progress`, `completed` (requester only, after verifying) or `failed`. */
  state?: 'in_progress' | 'completed' | 'failed';
  /** Why it failed (with `state: 'failed'`; at most 1024 characters). */
  error?: string;
}

/** Answer to `POST /v1/transfers`, `GET /v1/transfers/:id` and a progress report. */
export interface TransferResponse {
  /** The transfer. */
  transfer: Transfer;
}

/** Answer to `GET /v1/transfers`. */
export interface TransferListResponse {
  /** Transfers the caller's user requested or holds, newest first. */
  transfers: Transfer[];
}

/** The `kind` of the delivery that carries a transfer request to the holder's sessions. */
export const TRANSFER_REQUEST_KIND = 'syncline.transfer-request';

/** The payload of a {@link TRANSFER_REQUEST_KIND} delivery. */
export interface TransferRequestPayload {
  /** The transfer. */
  transferId: string;
  /** The wanted asset. */
  assetHash: string;
  /** File name, when the requester gave one. */
  name?: string;
  /** Size, when the requester gave one. */
  size?: number;
  /** Media type, when the requester gave one. */
  mimeType?: string;
  /** The user who asked. */
  requesterUserId: string;
}

/** Data of an event-stream `delivery` event: a new delivery for this session (a hint). */
export interface DeliveryEvent {
  /** The delivery id. */
  id: string;
}

/** Data of an event-stream `transfer` event: a transfer changed. */
export interface TransferEvent {
  /** The transfer id. */
  id: string;
}
