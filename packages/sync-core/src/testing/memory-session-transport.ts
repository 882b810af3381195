/**
 * The session, delivery, asset and transfer parts of the in-memory server's transport. Each call
 * travels like the push and pull of {@link MemoryTransport}: authenticated by the session current
 * when it is made, handled in a later `schedule` turn, answered in another.
 *
 * @module
 */
import type {
  CreateTransferRequest,
  DeliveryStatusResponse,
  Transfer,
  TransferProgressRequest,
} from '../protocol/sessions.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import type {
  AssetProbe,
  AssetTransport,
  AuthSession,
  DeliveryTransport,
  SessionEvent,
  SessionTransport,
  TransferTransport,
} from '../transport/types.js';

/** The session routes of the in-memory server, as the transport calls them. */
export interface MemorySessionRoutes {
  /** `POST /v1/sessions/heartbeat`. */
  heartbeat(auth: AuthSession | null, body: unknown): SessionInfo;
  /** `GET /v1/sessions`. */
  listSessions(auth: AuthSession | null): SessionInfo[];
  /** `DELETE /v1/sessions[/:id]`. */
  revokeSessions(auth: AuthSession | null, sessionId?: string): void;
  /** `POST /v1/deliveries`. */
  sendDelivery(auth: AuthSession | null, body: unknown): Delivery;
  /** `GET /v1/deliveries?pending=1`. */
  pendingDeliveries(auth: AuthSession | null): Delivery[];
  /** `GET /v1/deliveries/:id`. */
  deliveryStatus(auth: AuthSession | null, id: string): DeliveryStatusResponse;
  /** `POST /v1/deliveries/:id/ack`. */
  ackDelivery(auth: AuthSession | null, id: string): { complete: boolean };
  /** `HEAD /v1/assets/:sha256`. */
  probeAsset(auth: AuthSession | null, sha256: string): AssetProbe;
  /** `PUT /v1/assets/:sha256`. */
  uploadAsset(
    auth: AuthSession | null,
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
  ): void;
  /** `GET /v1/assets/:sha256` with a range. */
  downloadAsset(
    auth: AuthSession | null,
    req: { sha256: string; start: number; end?: number },
  ): Uint8Array;
  /** `POST /v1/transfers`. */
  createTransfer(auth: AuthSession | null, body: unknown): Transfer;
  /** `GET /v1/transfers`. */
  listTransfers(auth: AuthSession | null): Transfer[];
  /** `GET /v1/transfers/:id`. */
  getTransfer(auth: AuthSession | null, id: string): Transfer;
  /** `POST /v1/transfers/:id/progress`. */
  transferProgress(auth: AuthSession | null, id: string, body: unknown): Transfer;
  /** The event stream's session, delivery and transfer events for `auth()`'s session. */
  watchSessionEvents(
    auth: () => AuthSession | null,
    listener: (event: SessionEvent) => void,
  ): () => void;
}

/**
 * Sends one request: `handle` runs on the server as the session current now, with `body` copied
 * as a JSON round trip would; its answer comes back deep-frozen.
 */
export type MemoryCall = <T>(
  handle: (auth: AuthSession | null, body: unknown) => T,
  body: unknown,
  signal: AbortSignal | undefined,
) => Promise<T>;

/** The four optional transport parts and the event hook, over `routes`. */
export function memorySessionParts(
  routes: MemorySessionRoutes,
  call: MemoryCall,
): {
  sessions: SessionTransport;
  deliveries: DeliveryTransport;
  assets: AssetTransport;
  transfers: TransferTransport;
} {
  return {
    sessions: {
      heartbeat: (req, signal) => call((auth, body) => routes.heartbeat(auth, body), req, signal),
      list: (signal) => call((auth) => routes.listSessions(auth), null, signal),
      revoke: (sessionId, signal) =>
        call((auth) => routes.revokeSessions(auth, sessionId), null, signal),
    },
    deliveries: {
      send: (req, signal) => call((auth, body) => routes.sendDelivery(auth, body), req, signal),
      pending: (signal) => call((auth) => routes.pendingDeliveries(auth), null, signal),
      ack: (id, signal) => call((auth) => routes.ackDelivery(auth, id), null, signal),
      status: (id, signal) => call((auth) => routes.deliveryStatus(auth, id), null, signal),
    },
    assets: {
      probe: (sha256, signal) => call((auth) => routes.probeAsset(auth, sha256), null, signal),
      uploadedOffset: (sha256, signal) =>
        call(
          (auth) => {
            try {
              return routes.probeAsset(auth, sha256).offset;
            } catch (error) {
              if ((error as { status?: number }).status === 404) return 0;
              throw error;
            }
          },
          null,
          signal,
        ),
      chunksReleased: true,
      uploadChunk: (req, signal) => {
        // Bytes travel as bytes: a copy taken now, as a request body is sent.
        const sent = { ...req, chunk: req.chunk.slice() };
        return call((auth) => routes.uploadAsset(auth, sent), null, signal);
      },
      download: (req, signal) =>
        call((auth, body) => routes.downloadAsset(auth, body as typeof req), req, signal).then(
          (bytes) => bytes.slice(),
        ),
    },
    transfers: {
      create: (req: CreateTransferRequest, signal) =>
        call((auth, body) => routes.createTransfer(auth, body), req, signal),
      list: (signal) => call((auth) => routes.listTransfers(auth), null, signal),
      get: (id, signal) => call((auth) => routes.getTransfer(auth, id), null, signal),
      progress: ({ id, ...report }: TransferProgressRequest & { id: string }, signal) =>
        call((auth, body) => routes.transferProgress(auth, id, body), report, signal),
    },
  };
}
