/**
 * The server side of a delivery simulation: the session and delivery routes as the simulated
 * network reaches them, plus an auditor's view of each delivery (the server's own truth, read
 * without a caller) that the checks compare with the run's independent model.
 *
 * @module
 */
import type { DeliveryStatus } from '../../../protocol/sessions.js';
import type { Delivery, PullResponse, PushResponse, SessionInfo } from '../../../protocol/types.js';
import type { AssetProbe, AuthSession, SessionEvent } from '../../../transport/types.js';
import { createMemoryServer } from '../../memory-server.js';
import { SIM_EPOCH_MS } from '../device-env.js';
import type { SimScheduler } from '../scheduler.js';

/** What the simulated network calls on the server. Every call may throw a `SyncError`. */
export interface DeliveryBackend {
  /** A short name printed in reports (`memory`, `pglite`). */
  readonly name: string;
  /** `POST /v1/sessions/heartbeat`. */
  heartbeat(auth: AuthSession, body: unknown): Promise<SessionInfo>;
  /** `GET /v1/sessions`. */
  listSessions(auth: AuthSession): Promise<SessionInfo[]>;
  /** `DELETE /v1/sessions[/:id]`. */
  revoke(auth: AuthSession, sessionId?: string): Promise<void>;
  /** `POST /v1/deliveries`. */
  send(auth: AuthSession, body: unknown): Promise<Delivery>;
  /** `GET /v1/deliveries?pending=1`. */
  pending(auth: AuthSession): Promise<Delivery[]>;
  /** `POST /v1/deliveries/:id/ack`. */
  ack(auth: AuthSession, id: string): Promise<{ complete: boolean }>;
  /** Session and delivery hints of the event stream for `auth()`'s session. */
  watch(auth: () => AuthSession | null, listener: (event: SessionEvent) => void): () => void;
  /** A pull of the record side (the client pulls its scope; the simulation writes no records). */
  pull(auth: AuthSession, query: unknown): Promise<PullResponse>;
  /** A push of the record side. */
  push(auth: AuthSession, body: unknown): Promise<PushResponse>;
  /**
   * The server's truth about one delivery, settled at the server's now (expiry, completion),
   * read as the operator would: `undefined` when no such delivery exists.
   */
  audit(id: string, senderUserId: string): Promise<DeliveryStatus | undefined>;
  /** Runs the server's sweeper (expiry, completion, asset clean-up). */
  sweep(): Promise<void>;
  /**
   * What the server does by itself as time passes, run before each audit round: a server that
   * completes deliveries whose remaining targets went stale only in a periodic sweeper runs it
   * here, so the audit judges the state that sweeper leaves. Absent: the server settles as it
   * answers (the in-memory one does).
   */
  settle?(): Promise<void>;
  /** The asset routes and the blob store's truth; absent: the run sends no assets. */
  assets?: AssetBackend;
}

/** What the simulated network calls on the server's asset routes, plus the operator's view. */
export interface AssetBackend {
  /** `HEAD /v1/assets/:sha256`. */
  probe(auth: AuthSession, sha256: string): Promise<AssetProbe>;
  /** `PUT /v1/assets/:sha256` with one chunk. */
  upload(
    auth: AuthSession,
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
  ): Promise<void>;
  /** `GET /v1/assets/:sha256` with a range. */
  download(
    auth: AuthSession,
    req: { sha256: string; start: number; end?: number },
  ): Promise<Uint8Array>;
  /**
   * What the blob store holds of `userId`'s copy of `sha256`, read as the operator would:
   * `complete` once every byte is held and verified, `partial` while an upload is under way.
   */
  held(userId: string, sha256: string): Promise<'complete' | 'partial' | undefined>;
}

/** Options of {@link memoryDeliveryBackend}. */
export interface MemoryDeliveryBackendOptions {
  /** The run's event queue: the server's clock and event delivery run on it. */
  scheduler: SimScheduler;
  /** A session silent for longer is stale. */
  sessionActiveWindowMs: number;
  /** Members of each shared scope (user ids). */
  members: Readonly<Record<string, readonly string[]>>;
  /**
   * How long the server keeps an uploaded copy no delivery referenced yet (its transfer TTL).
   * @default 600 s
   */
  uploadGraceSeconds?: number;
}

/** The in-memory server of the testing kit, on the simulation's clock and queue. */
export function memoryDeliveryBackend(options: MemoryDeliveryBackendOptions): DeliveryBackend {
  const { scheduler, members } = options;
  const server = createMemoryServer({
    environment: { now: () => SIM_EPOCH_MS + scheduler.now },
    schedule: (fn) => {
      scheduler.schedule(0, fn);
    },
    sessionActiveWindowMs: options.sessionActiveWindowMs,
    authorizeScope: (userId, scope) =>
      scope === `user:${userId}` || (members[scope]?.includes(userId) ?? false),
    listScopeMembers: (scope) => members[scope] ?? [],
    transferTtlSeconds: options.uploadGraceSeconds ?? 600,
  });
  const routes = server.sessionRoutes;
  return {
    name: 'memory',
    heartbeat: async (auth, body) => routes.heartbeat(auth, body),
    listSessions: async (auth) => routes.listSessions(auth),
    revoke: async (auth, sessionId) => routes.revokeSessions(auth, sessionId),
    send: async (auth, body) => routes.sendDelivery(auth, body),
    pending: async (auth) => routes.pendingDeliveries(auth),
    ack: async (auth, id) => routes.ackDelivery(auth, id),
    watch: (auth, listener) => routes.watchSessionEvents(auth, listener),
    pull: async (auth, query) => server.pull(auth, query),
    push: async (auth, body) => server.push(auth, body),
    audit: async (id, senderUserId) => {
      if (!routes.sessions.exists(id)) return undefined;
      // The status route of the sender's user, without the session check of the HTTP layer.
      return routes.sessions.status({ userId: senderUserId, sessionId: 'auditor' }, id).status;
    },
    sweep: async () => {
      routes.sweep();
    },
    assets: {
      probe: async (auth, sha256) => routes.probeAsset(auth, sha256),
      upload: async (auth, req) => routes.uploadAsset(auth, req),
      download: async (auth, req) => routes.downloadAsset(auth, req),
      // Each sent asset is one user's (its bytes name the sender): any copy is theirs.
      held: async (userId, sha256) =>
        routes.assets.hasComplete(userId, sha256)
          ? 'complete'
          : routes.assets.has(sha256)
            ? 'partial'
            : undefined,
    },
  };
}
