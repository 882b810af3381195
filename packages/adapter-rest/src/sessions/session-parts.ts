/**
 * The session-targeting parts of `restTransport` (SESSIONS-WIRE): `/v1/sessions`,
 * `/v1/deliveries`, `/v1/assets/:sha256` and `/v1/transfers`, every answer validated by the
 * protocol's validators, and the event stream's `session`, `delivery` and `transfer` hints.
 *
 * @module
 */
import type {
  AssetProbe,
  AssetTransport,
  DeliveryTransport,
  ServerInfo,
  SessionEvent,
  SessionTransport,
  TransferTransport,
} from '@syncline/sync-core';
import { SyncError } from '@syncline/sync-core';
import {
  validateAckResponse,
  validateDelivery,
  validateDeliveryResponse,
  validateDeliveryStatusResponse,
  validateHeartbeatResponse,
  validatePendingDeliveriesResponse,
  validateSessionListResponse,
  validateTransferListResponse,
  validateTransferResponse,
} from '@syncline/sync-core/protocol';
import type { HttpClient, HttpRequest } from '../http/http-client.js';
import { checkedAnswer, notSynclineAnswerError, readErrorBody } from '../http/response-error.js';
import type { ServerSentEvent } from '../realtime/event-stream-parser.js';
import { linkedBody } from './linked-body.js';
import { nodeHttpFetch } from './node-download.js';
import { uploadBody } from './upload-body.js';

/** Options of {@link sessionParts}. */
export interface SessionPartsOptions {
  /** The transport's `fetch` option (`undefined`: the global one, looked up at call time). */
  fetch: typeof globalThis.fetch | undefined;
  /** Asset downloads over `node:http` (see `RestTargetingOptions.nodeDownloads`). */
  nodeDownloads: boolean;
  /**
   * Whether asset chunks go as one-chunk streams (see `RestTransportOptions.streamUploads`);
   * `undefined` leaves it to the platform (Node's own fetch: yes).
   */
  streamUploads: boolean | undefined;
  /** The transport's latest `GET /v1/info` answer, asked when there is none. */
  serverInfo(signal?: AbortSignal): Promise<ServerInfo>;
}

/** The four parts, over `http`. */
export function sessionParts(
  http: HttpClient,
  options: SessionPartsOptions,
): {
  sessions: SessionTransport;
  deliveries: DeliveryTransport;
  assets: AssetTransport;
  transfers: TransferTransport;
} {
  const json = async <T>(
    what: string,
    request: Parameters<HttpClient['json']>[0],
    validate: (body: unknown) => T,
  ): Promise<T> => {
    const body = await http.json(request);
    return checkedAnswer(what, () => validate(body));
  };
  const id = (value: string) => encodeURIComponent(value);

  /**
   * Throws when `response` says that the thing a targeting route names by id (a delivery, a
   * transfer, an asset, an upload, a session) does not exist for the caller: gone (expired,
   * swept, purged), unknown, or another user's. That is a 404 `not_found` whose message is not
   * the server's route 404 (`no such route`, protocol.md "Errors"), and becomes `rejected`
   * with code `not_found` and the server's message, as the memory server answers it. Anything
   * else is left to {@link HttpClient.ok}, which calls a 404 a route that is not there
   * (`misconfigured`), right for a wrong baseUrl. An answer to a `head` request has no body:
   * its 404 is the server's "nothing there" when it names no content type either (the
   * server's route 404 is JSON, a proxy's is a page, and a HEAD answer still names their type).
   */
  const goneCheck = async (response: Response, what: string, head = false): Promise<void> => {
    if (response.status !== 404) return;
    let message: string | undefined;
    if (head && response.headers.get('content-type') === null) {
      message = `${what}: not found`;
    } else {
      const error = await readErrorBody(response.clone());
      if (error?.code !== 'not_found' || error.message === 'no such route') return;
      message = error.message;
    }
    await response.body?.cancel().catch(() => undefined);
    throw new SyncError('rejected', message ?? `${what}: not found`, {
      status: 404,
      code: 'not_found',
    });
  };

  /** {@link json} for a route that names something by id: see {@link goneCheck}. */
  const named = async <T>(
    what: string,
    request: Parameters<HttpClient['json']>[0],
    validate: (body: unknown) => T,
  ): Promise<T> => {
    const body = await http.send(request, async (response) => {
      await goneCheck(response, what);
      await http.ok(response, what);
      const text = await response.text();
      try {
        return text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch (cause) {
        throw notSynclineAnswerError(response, what, cause);
      }
    });
    return checkedAnswer(what, () => validate(body));
  };

  /**
   * The successful response, its body unread, of a route that names something by id: see
   * {@link goneCheck}.
   */
  const openNamed = (request: HttpRequest): Promise<Response> =>
    http.send(request, async (response) => {
      await goneCheck(response, request.what, request.method === 'HEAD');
      return http.ok(response, request.what);
    });

  const probe = async (sha256: string, signal?: AbortSignal): Promise<AssetProbe> => {
    const response = await openNamed({
      method: 'HEAD',
      path: `/v1/assets/${id(sha256)}`,
      what: 'asset probe',
      signal,
    });
    const offset = headerNumber(response, 'upload-offset') ?? 0;
    const length = headerNumber(response, 'upload-length');
    return {
      offset,
      ...(length === undefined ? {} : { length }),
      complete: response.headers.get('asset-complete') === '1',
    };
  };

  // Whether the server takes uploads by id, from the transport's latest info answer (the one
  // the client asked at sign-in; asked again after a failure).
  const uploadsById = async (signal?: AbortSignal): Promise<boolean> =>
    (await options.serverInfo(signal)).features?.assetUploadsById === true;

  /** Sends one chunk of an upload (hash-addressed or by id) to `path` with `range`. */
  const putChunk = (
    path: string,
    range: string,
    headers: Record<string, string>,
    chunk: Uint8Array,
    signal?: AbortSignal,
  ): Promise<void> => {
    const upload = uploadBody(chunk, options.streamUploads);
    return http.send(
      {
        method: 'PUT',
        path,
        headers: { 'content-range': range, ...headers, ...upload.headers },
        what: 'asset upload',
        signal,
        // `manual`: a 308 answers an upload chunk (resumable-upload style), it is no redirect.
        fetch: (url, init) => {
          const chunkInit = { ...init, redirect: 'manual', ...upload.init } as RequestInit;
          const { fetch } = options;
          return fetch === undefined ? globalThis.fetch(url, chunkInit) : fetch(url, chunkInit);
        },
      },
      async (response) => {
        if (response.status === 409) throw await uploadConflict(response);
        await goneCheck(response, 'asset upload');
        if (response.status !== 308) await http.ok(response, 'asset upload');
        await response.body?.cancel().catch(() => undefined);
      },
    );
  };

  return {
    sessions: {
      heartbeat: (req, signal) =>
        json(
          'heartbeat',
          { method: 'POST', path: '/v1/sessions/heartbeat', body: req, what: 'heartbeat', signal },
          validateHeartbeatResponse,
        ).then((answer) => answer.session),
      list: (signal) =>
        json(
          'sessions',
          { method: 'GET', path: '/v1/sessions', what: 'sessions', signal },
          validateSessionListResponse,
        ).then((answer) => answer.sessions),
      revoke: async (sessionId, signal) => {
        await named(
          'revoke',
          {
            method: 'DELETE',
            path: sessionId === undefined ? '/v1/sessions' : `/v1/sessions/${id(sessionId)}`,
            what: 'revoke',
            signal,
          },
          () => undefined,
        );
      },
    },
    deliveries: {
      send: (req, signal) =>
        json(
          'delivery',
          { method: 'POST', path: '/v1/deliveries', body: req, what: 'delivery', signal },
          validateDeliveryResponse,
        ).then((answer) => answer.delivery),
      pending: (signal) =>
        json(
          'pending deliveries',
          {
            method: 'GET',
            path: '/v1/deliveries',
            query: { pending: 1 },
            what: 'pending deliveries',
            signal,
          },
          validatePendingDeliveriesResponse,
        ).then((answer) => answer.deliveries),
      ack: (deliveryId, signal) =>
        named(
          'ack',
          {
            method: 'POST',
            path: `/v1/deliveries/${id(deliveryId)}/ack`,
            body: {},
            what: 'ack',
            signal,
          },
          validateAckResponse,
        ),
      status: (deliveryId, signal) =>
        named(
          'delivery status',
          {
            method: 'GET',
            path: `/v1/deliveries/${id(deliveryId)}`,
            what: 'delivery status',
            signal,
          },
          validateDeliveryStatusResponse,
        ),
    },
    assets: {
      probe,
      // A chunk's body is sent (a stream of it, in Node) or copied (a browser's fetch) by the
      // time its answer arrives.
      chunksReleased: true,
      uploadedOffset: (sha256, signal) =>
        zeroWhenMissing(probe(sha256, signal).then((held) => held.offset)),
      uploadChunk: ({ sha256, offset, totalSize, chunk }, signal) =>
        putChunk(
          `/v1/assets/${id(sha256)}`,
          totalSize === 0
            ? 'bytes */0'
            : `bytes ${offset}-${offset + chunk.length - 1}/${totalSize}`,
          {},
          chunk,
          signal,
        ),
      uploadsById,
      uploadChunkById: ({ uploadId, offset, chunk, totalSize, sha256 }, signal) => {
        const total = totalSize === undefined ? '*' : String(totalSize);
        return putChunk(
          `/v1/assets/uploads/${id(uploadId)}`,
          chunk.length === 0
            ? `bytes */${total}`
            : `bytes ${offset}-${offset + chunk.length - 1}/${total}`,
          sha256 === undefined ? {} : { 'asset-sha256': sha256 },
          chunk,
          signal,
        );
      },
      uploadedOffsetById: (uploadId, signal) =>
        zeroWhenMissing(
          openNamed({
            method: 'HEAD',
            path: `/v1/assets/uploads/${id(uploadId)}`,
            what: 'asset upload probe',
            signal,
          }).then((response) => headerNumber(response, 'upload-offset') ?? 0),
        ),
      download: async ({ sha256, start, end }, signal) => {
        const range = end === undefined ? `bytes=${start}-` : `bytes=${start}-${end - 1}`;
        const response = linkedBody(
          await openNamed({
            method: 'GET',
            path: `/v1/assets/${id(sha256)}`,
            headers: { range, accept: 'application/octet-stream' },
            what: 'asset download',
            signal,
          }),
          signal,
        );
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (response.status === 200 && start > 0) {
          // A server that ignored the range sent the whole asset: keep the part asked for.
          return bytes.slice(start, end);
        }
        return bytes;
      },
      downloadStream: async ({ sha256, start, end }, signal) => {
        const response = linkedBody(
          await openNamed({
            method: 'GET',
            path: `/v1/assets/${id(sha256)}`,
            headers: { range: `bytes=${start}-${end - 1}`, accept: 'application/octet-stream' },
            what: 'asset download',
            signal,
            ...(options.nodeDownloads ? { fetch: nodeHttpFetch } : {}),
          }),
          signal,
        );
        const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
        // A server that ignored the range sends the whole asset: skip to the part asked for.
        return response.status === 200 && start > 0 ? skipBytes(body, start) : body;
      },
    },
    transfers: {
      create: (req, signal) =>
        json(
          'transfer',
          { method: 'POST', path: '/v1/transfers', body: req, what: 'transfer', signal },
          validateTransferResponse,
        ).then((answer) => answer.transfer),
      list: (signal) =>
        json(
          'transfers',
          { method: 'GET', path: '/v1/transfers', what: 'transfers', signal },
          validateTransferListResponse,
        ).then((answer) => answer.transfers),
      get: (transferId, signal) =>
        named(
          'transfer',
          { method: 'GET', path: `/v1/transfers/${id(transferId)}`, what: 'transfer', signal },
          validateTransferResponse,
        ).then((answer) => answer.transfer),
      progress: ({ id: transferId, ...body }, signal) =>
        named(
          'transfer progress',
          {
            method: 'POST',
            path: `/v1/transfers/${id(transferId)}/progress`,
            body,
            what: 'transfer progress',
            signal,
          },
          validateTransferResponse,
        ).then((answer) => answer.transfer),
    },
  };
}

/**
 * Fans the event stream's session, delivery and transfer hints out to `sessionEvents`
 * listeners, and its (re)connections to their `onConnect`. The stream is the one the client's
 * `subscribe` opens; without it, the client's own catch-up interval covers these hints.
 */
export class SessionEventHub {
  readonly #listeners = new Set<{
    listener: (event: SessionEvent) => void;
    onConnect: (() => void) | undefined;
  }>();

  /** Registers a listener; returns the function that removes it. */
  add(listener: (event: SessionEvent) => void, onConnect?: () => void): () => void {
    const entry = { listener, onConnect };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** The stream (re)connected. */
  connected(): void {
    for (const entry of [...this.#listeners]) entry.onConnect?.();
  }

  /** An event that is not a poke; unknown or malformed ones are ignored (hints only). */
  event(event: ServerSentEvent): void {
    const parsed = parseSessionEvent(event);
    if (parsed === undefined) return;
    for (const entry of [...this.#listeners]) entry.listener(parsed);
  }
}

function parseSessionEvent(event: ServerSentEvent): SessionEvent | undefined {
  if (event.event === 'session') return { type: 'session' };
  if (event.event !== 'delivery' && event.event !== 'transfer') return undefined;
  let data: { id?: unknown; delivery?: unknown };
  try {
    data = JSON.parse(event.data) as { id?: unknown; delivery?: unknown };
  } catch {
    return undefined;
  }
  if (typeof data.id !== 'string') return undefined;
  if (event.event === 'delivery' && data.delivery !== undefined) {
    // The delivery itself rode along: checked like a listed one, else the hint stays a hint.
    try {
      const delivery = validateDelivery(data.delivery);
      if (delivery.id === data.id) return { type: 'delivery', id: data.id, delivery };
    } catch {
      // malformed: the client lists its pending deliveries instead
    }
  }
  return { type: event.event, id: data.id };
}

/** `body` without its first `count` bytes (views of the chunks, no copies). */
function skipBytes(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  let left = count;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (left >= chunk.length) {
          left -= chunk.length;
          return;
        }
        controller.enqueue(left === 0 ? chunk : chunk.subarray(left));
        left = 0;
      },
    }),
  );
}

/**
 * A 409 of an upload names where to continue in `Upload-Offset` (the body's details carry only
 * a path): the error gets it as `details.offset`, which the client's uploader reads.
 */
async function uploadConflict(response: Response): Promise<SyncError> {
  let code = 'conflict';
  let message = 'asset upload: conflict';
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = `asset upload: ${body.error.message}`;
  } catch {
    // not JSON: the status says enough
  }
  const offset = headerNumber(response, 'upload-offset');
  return new SyncError('conflict', message, {
    status: 409,
    code,
    ...(offset === undefined ? {} : { details: { offset } }),
  });
}

function headerNumber(response: Response, name: string): number | undefined {
  const value = response.headers.get(name);
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** An upload's offset, 0 when the server does not know the upload (404). */
async function zeroWhenMissing(offset: Promise<number>): Promise<number> {
  try {
    return await offset;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return 0;
    throw error;
  }
}
