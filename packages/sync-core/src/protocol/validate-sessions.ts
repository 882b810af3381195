/**
 * Validation of the session-targeting bodies (sessions, deliveries, assets, transfers), shared
 * by the server (requests), the memory server and the client (answers). Like `validate.ts`:
 * every problem throws `SyncError('invalid')` with code `invalid` and the JSON path of the
 * first problem in `details.path`; unknown fields are rejected; a property whose value is
 * `undefined` counts as absent.
 *
 * ## Formats
 * - **session id, client id**: as in `validate.ts` (1–128 characters of `[A-Za-z0-9._:-]`).
 * - **user id**: 1–256 characters, no control character, no lone surrogate.
 * - **delivery id, transfer id**: a lowercase UUID.
 * - **kind**: 1–128 characters, no control character, no lone surrogate.
 * - **sha256 / assetHash**: 64 lowercase hex digits.
 * - **label**: at most 200 characters; **platform**: at most 100; **name**: at most 1024;
 *   **mimeType**: 1–255 printable ASCII characters; **error**: at most 1024; none of them
 *   with a control character or a lone surrogate.
 * - **payload**: any JSON value within the protocol's data limits (depth, string length,
 *   keys per object), no `__proto__` key.
 * - **times, sizes, byte counts**: non-negative safe integers.
 *
 * @module
 */

import { hasControl, hasLoneSurrogate } from '../text/unicode.js';
import { defined, Fields, listField, optionalInteger, optionalText } from './fields.js';
import { isClientId, isScope, isUuid } from './formats.js';
import { type ProtocolLimits, resolveLimits } from './limits.js';
import type {
  AckResponse,
  AssetUploadResponse,
  CreateTransferRequest,
  DeliveryResponse,
  DeliveryStatus,
  DeliveryStatusResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  PendingDeliveriesResponse,
  SendDeliveryRequest,
  SessionListResponse,
  Transfer,
  TransferListResponse,
  TransferProgressRequest,
  TransferResponse,
  TransferState,
} from './sessions.js';
import type { Delivery, DeliveryTarget, Json, SessionInfo } from './types.js';
import { at, copyJson, fail, isPlainObject, type Path, ROOT } from './validate-json.js';

/** Default lifetime of a delivery: 48 hours. */
export const DEFAULT_DELIVERY_TTL_SECONDS = 172_800;
/** Most session ids in a `sessions` target. */
export const MAX_TARGET_SESSIONS = 100;

const SHA256 = /^[0-9a-f]{64}$/;
const MIME = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;
const TRANSFER_STATES: ReadonlySet<string> = new Set([
  'pending',
  'in_progress',
  'completed',
  'failed',
  'expired',
]);

/** `true` for a sha256 as 64 lowercase hex digits, the name of an asset. */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

/** `true` for a well-formed user id (see the module doc). */
export function isUserId(value: unknown): value is string {
  return isLabel(value, 1, 256);
}

function isLabel(value: unknown, min: number, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length >= min &&
    value.length <= max &&
    !hasControl(value) &&
    !hasLoneSurrogate(value)
  );
}

const isSessionId = (value: unknown) => isClientId(value);
const isKind = (value: unknown) => isLabel(value, 1, 128);
const isMime = (value: unknown) => typeof value === 'string' && MIME.test(value);

function sessionIdAt(value: unknown, path: Path): string {
  if (!isSessionId(value)) fail(path, 'expected a session id');
  return value as string;
}

function targetAt(value: unknown, path: Path): DeliveryTarget {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  const type = value.type;
  if (type === 'otherSessions' || type === 'scopeMembers') {
    new Fields(value, path, ['type']);
    return { type };
  }
  if (type === 'sessions') {
    const body = new Fields(value, path, ['type', 'ids']);
    const ids = listField(body, 'ids', sessionIdAt, MAX_TARGET_SESSIONS);
    if (ids.length === 0) fail(at(path, 'ids'), 'expected at least one session id');
    return { type, ids: [...new Set(ids)] };
  }
  return fail(at(path, 'type'), 'expected otherSessions, sessions or scopeMembers');
}

function payloadAt(value: unknown, path: Path, limits: Readonly<ProtocolLimits>): Json {
  return copyJson(value, limits, path, 1);
}

/**
 * Checks the body of `POST /v1/sessions/heartbeat`.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateHeartbeatRequest(body: unknown): HeartbeatRequest {
  const b = new Fields(body, ROOT, ['clientId', 'sessionId', 'label', 'platform']);
  return defined({
    clientId: b.text('clientId', isClientId, 'a client id'),
    sessionId: b.text('sessionId', isSessionId, 'a session id'),
    label: optionalText(b, 'label', (v) => isLabel(v, 0, 200), 'at most 200 characters'),
    platform: optionalText(b, 'platform', (v) => isLabel(v, 0, 100), 'at most 100 characters'),
  });
}

/**
 * Checks the body of `POST /v1/deliveries`. `ttlSeconds` is only checked to be a positive
 * integer here; the server applies its own cap.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateSendDeliveryRequest(
  body: unknown,
  limits?: Partial<ProtocolLimits>,
): SendDeliveryRequest {
  const b = new Fields(body, ROOT, [
    'id',
    'scope',
    'kind',
    'payload',
    'assetHash',
    'target',
    'ttlSeconds',
  ]);
  const raw = b.optional('payload');
  return defined({
    id: b.text('id', isUuid, 'a lowercase UUID'),
    scope: b.text('scope', isScope, 'a scope such as user:42'),
    kind: b.text('kind', isKind, '1-128 characters without control characters'),
    payload:
      raw === undefined ? undefined : payloadAt(raw, at(ROOT, 'payload'), resolveLimits(limits)),
    assetHash: optionalText(b, 'assetHash', isSha256Hex, 'a sha256 as 64 lowercase hex digits'),
    target: targetAt(b.required('target'), at(ROOT, 'target')),
    ttlSeconds: optionalInteger(b, 'ttlSeconds', 1),
  });
}

/**
 * Checks the body of `POST /v1/deliveries/:id/ack`: nothing, or an empty object.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateAckRequest(body: unknown): void {
  if (body === undefined) return;
  new Fields(body, ROOT, []);
}

/**
 * Checks the body of `POST /v1/transfers`.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateCreateTransferRequest(body: unknown): CreateTransferRequest {
  const b = new Fields(body, ROOT, [
    'id',
    'scope',
    'assetHash',
    'name',
    'size',
    'mimeType',
    'from',
  ]);
  const from = new Fields(b.required('from'), at(ROOT, 'from'), ['userId']);
  return defined({
    id: b.text('id', isUuid, 'a lowercase UUID'),
    scope: b.text('scope', isScope, 'a scope such as workspace:7'),
    assetHash: b.text('assetHash', isSha256Hex, 'a sha256 as 64 lowercase hex digits'),
    name: optionalText(b, 'name', (v) => isLabel(v, 1, 1024), '1-1024 characters'),
    size: optionalInteger(b, 'size'),
    mimeType: optionalText(b, 'mimeType', isMime, 'a media type'),
    from: { userId: from.text('userId', isUserId, 'a user id') },
  });
}

/**
 * Checks the body of `POST /v1/transfers/:id/progress`.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateTransferProgressRequest(body: unknown): TransferProgressRequest {
  const b = new Fields(body, ROOT, ['side', 'bytesDone', 'state', 'error']);
  const side = b.required('side');
  if (side !== 'upload' && side !== 'download')
    fail(at(ROOT, 'side'), 'expected upload or download');
  const state = b.optional('state');
  if (
    state !== undefined &&
    state !== 'in_progress' &&
    state !== 'completed' &&
    state !== 'failed'
  ) {
    fail(at(ROOT, 'state'), 'expected in_progress, completed or failed');
  }
  const error = optionalText(b, 'error', (v) => isLabel(v, 1, 1024), '1-1024 characters');
  if (error !== undefined && state !== 'failed') fail(at(ROOT, 'error'), 'only with state failed');
  return defined({ side, bytesDone: b.integer('bytesDone'), state, error });
}

function sessionInfoAt(value: unknown, path: Path): SessionInfo {
  const b = new Fields(value, path, [
    'userId',
    'sessionId',
    'clientId',
    'label',
    'platform',
    'lastSeenAt',
    'revokedAt',
    'active',
  ]);
  return defined({
    userId: b.text('userId', isUserId, 'a user id'),
    sessionId: b.text('sessionId', isSessionId, 'a session id'),
    clientId: b.text('clientId', isClientId, 'a client id'),
    label: optionalText(b, 'label', (v) => isLabel(v, 0, 200), 'at most 200 characters'),
    platform: optionalText(b, 'platform', (v) => isLabel(v, 0, 100), 'at most 100 characters'),
    lastSeenAt: b.integer('lastSeenAt'),
    revokedAt: optionalInteger(b, 'revokedAt'),
    active: b.boolean('active'),
  });
}

function deliveryAt(value: unknown, path: Path, limits: Readonly<ProtocolLimits>): Delivery {
  const b = new Fields(value, path, [
    'id',
    'scope',
    'kind',
    'payload',
    'assetHash',
    'originSessionId',
    'target',
    'createdAt',
    'expiresAt',
    'completedAt',
    'targetSessionIds',
    'expired',
  ]);
  const raw = b.optional('payload');
  const expired = b.optional('expired');
  if (expired !== undefined && expired !== true) fail(at(path, 'expired'), 'expected true');
  return defined({
    id: b.text('id', isUuid, 'a lowercase UUID'),
    scope: b.text('scope', isScope, 'a scope'),
    kind: b.text('kind', isKind, 'a kind'),
    payload: raw === undefined ? undefined : payloadAt(raw, at(path, 'payload'), limits),
    assetHash: optionalText(b, 'assetHash', isSha256Hex, 'a sha256'),
    originSessionId: b.text('originSessionId', isSessionId, 'a session id'),
    target: targetAt(b.required('target'), at(path, 'target')),
    createdAt: b.integer('createdAt'),
    expiresAt: b.integer('expiresAt'),
    completedAt: optionalInteger(b, 'completedAt'),
    targetSessionIds:
      b.optional('targetSessionIds') === undefined
        ? undefined
        : listField(b, 'targetSessionIds', sessionIdAt),
    expired: expired as true | undefined,
  });
}

function statusAt(value: unknown, path: Path): DeliveryStatus {
  const b = new Fields(value, path, ['targets', 'acked', 'complete', 'expired']);
  return {
    targets: listField(b, 'targets', sessionIdAt),
    acked: listField(b, 'acked', sessionIdAt),
    complete: b.boolean('complete'),
    expired: b.boolean('expired'),
  };
}

function transferAt(value: unknown, path: Path): Transfer {
  const b = new Fields(value, path, [
    'id',
    'scope',
    'assetHash',
    'name',
    'size',
    'mimeType',
    'requesterSessionId',
    'requesterUserId',
    'holderUserId',
    'state',
    'uploadedBytes',
    'downloadedBytes',
    'totalBytes',
    'error',
    'createdAt',
    'updatedAt',
    'expiresAt',
  ]);
  return defined({
    id: b.text('id', isUuid, 'a lowercase UUID'),
    scope: b.text('scope', isScope, 'a scope'),
    assetHash: b.text('assetHash', isSha256Hex, 'a sha256'),
    name: optionalText(b, 'name', (v) => isLabel(v, 1, 1024), '1-1024 characters'),
    size: optionalInteger(b, 'size'),
    mimeType: optionalText(b, 'mimeType', isMime, 'a media type'),
    requesterSessionId: b.text('requesterSessionId', isSessionId, 'a session id'),
    requesterUserId: b.text('requesterUserId', isUserId, 'a user id'),
    holderUserId: b.text('holderUserId', isUserId, 'a user id'),
    state: b.text(
      'state',
      (v) => TRANSFER_STATES.has(v as string),
      'a transfer state',
    ) as TransferState,
    uploadedBytes: b.integer('uploadedBytes'),
    downloadedBytes: b.integer('downloadedBytes'),
    totalBytes: b.integer('totalBytes'),
    error: optionalText(b, 'error', (v) => isLabel(v, 1, 1024), '1-1024 characters'),
    createdAt: b.integer('createdAt'),
    updatedAt: b.integer('updatedAt'),
    expiresAt: b.integer('expiresAt'),
  });
}

/** Checks one {@link SessionInfo} as the server sends it. @throws SyncError `invalid` */
export function validateSessionInfo(value: unknown): SessionInfo {
  return sessionInfoAt(value, ROOT);
}

/** Checks the answer to a heartbeat. @throws SyncError `invalid` */
export function validateHeartbeatResponse(value: unknown): HeartbeatResponse {
  const b = new Fields(value, ROOT, ['session']);
  return { session: sessionInfoAt(b.required('session'), at(ROOT, 'session')) };
}

/** Checks the answer to `GET /v1/sessions`. @throws SyncError `invalid` */
export function validateSessionListResponse(value: unknown): SessionListResponse {
  return { sessions: listField(new Fields(value, ROOT, ['sessions']), 'sessions', sessionInfoAt) };
}

/** Checks one {@link Delivery} as the server sends it. @throws SyncError `invalid` */
export function validateDelivery(value: unknown, limits?: Partial<ProtocolLimits>): Delivery {
  return deliveryAt(value, ROOT, resolveLimits(limits));
}

/** Checks the answer to `POST /v1/deliveries`. @throws SyncError `invalid` */
export function validateDeliveryResponse(
  value: unknown,
  limits?: Partial<ProtocolLimits>,
): DeliveryResponse {
  const b = new Fields(value, ROOT, ['delivery']);
  return {
    delivery: deliveryAt(b.required('delivery'), at(ROOT, 'delivery'), resolveLimits(limits)),
  };
}

/** Checks the answer to `GET /v1/deliveries?pending=1`. @throws SyncError `invalid` */
export function validatePendingDeliveriesResponse(
  value: unknown,
  limits?: Partial<ProtocolLimits>,
): PendingDeliveriesResponse {
  const resolved = resolveLimits(limits);
  const b = new Fields(value, ROOT, ['deliveries']);
  return {
    deliveries: listField(b, 'deliveries', (item, path) => deliveryAt(item, path, resolved)),
  };
}

/** Checks the answer to `GET /v1/deliveries/:id`. @throws SyncError `invalid` */
export function validateDeliveryStatusResponse(
  value: unknown,
  limits?: Partial<ProtocolLimits>,
): DeliveryStatusResponse {
  const b = new Fields(value, ROOT, ['delivery', 'status']);
  return {
    delivery: deliveryAt(b.required('delivery'), at(ROOT, 'delivery'), resolveLimits(limits)),
    status: statusAt(b.required('status'), at(ROOT, 'status')),
  };
}

/** Checks the answer to an ack. @throws SyncError `invalid` */
export function validateAckResponse(value: unknown): AckResponse {
  return { complete: new Fields(value, ROOT, ['complete']).boolean('complete') };
}

/** Checks the answer to a completed upload. @throws SyncError `invalid` */
export function validateAssetUploadResponse(value: unknown): AssetUploadResponse {
  const b = new Fields(value, ROOT, ['sha256', 'size']);
  return { sha256: b.text('sha256', isSha256Hex, 'a sha256'), size: b.integer('size') };
}

/** Checks one {@link Transfer} as the server sends it. @throws SyncError `invalid` */
export function validateTransfer(value: unknown): Transfer {
  return transferAt(value, ROOT);
}

/** Checks the answer to `POST /v1/transfers`, `GET /v1/transfers/:id` or a progress report. @throws SyncError `invalid` */
export function validateTransferResponse(value: unknown): TransferResponse {
  const b = new Fields(value, ROOT, ['transfer']);
  return { transfer: transferAt(b.required('transfer'), at(ROOT, 'transfer')) };
}

/** Checks the answer to `GET /v1/transfers`. @throws SyncError `invalid` */
export function validateTransferListResponse(value: unknown): TransferListResponse {
  return { transfers: listField(new Fields(value, ROOT, ['transfers']), 'transfers', transferAt) };
}
