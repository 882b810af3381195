import type { SyncEnvironment } from '../env/types.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { Emitter } from '../observe/emitter.js';
import type { SessionInfo } from '../protocol/types.js';
import type { Retryer } from '../replication/retryer.js';
import type { AuthSession, SessionTransport } from '../transport/types.js';

/** Events of {@link SessionsApi}. */
export interface SessionsEvents {
  /**
   * This device's session or the user's session list changed (a heartbeat answered, another
   * device signed in, a session was revoked). `sessions` is the latest list read, when one was.
   */
  change: (event: { current: SessionInfo | null; sessions?: readonly SessionInfo[] }) => void;
}

/** `client.sessions`: this device's session and the user's other devices. */
export interface SessionsApi {
  /** This device's session as the server last answered it, or `null` (signed out, not yet seen). */
  readonly current: SessionInfo | null;
  /**
   * The signed-in user's sessions (revoked ones excluded), most recently seen first.
   * @throws SyncError `auth` when signed out, or the transport's error
   */
  list(): Promise<SessionInfo[]>;
  /** Signs one device out ("sign out this device"). */
  revoke(sessionId: string): Promise<void>;
  /** Signs every session of the user out, this one included ("sign out everywhere"). */
  revokeAll(): Promise<void>;
  /** Subscribes to `change`. */
  on<E extends keyof SessionsEvents>(event: E, listener: SessionsEvents[E]): this;
  /** Removes a listener. */
  off<E extends keyof SessionsEvents>(event: E, listener: SessionsEvents[E]): this;
}

/** What {@link ClientSessions} runs with while a user is signed in. */
export interface SignedInContext {
  /** The signed-in session. */
  session: AuthSession;
  /** The signed-in user's own scope (of `otherSessions` and `sessions` deliveries). */
  scope: string;
  /** This installation's id. */
  clientId: string;
  /** The client's one retryer. */
  retryer: Retryer;
  /** Aborted when the user signs out or the client stops. */
  signal: AbortSignal;
}

/** Options of {@link ClientSessions}. */
export interface ClientSessionsOptions {
  /** Injected time and timers. */
  env: SyncEnvironment;
  /** The transport's session part, if any. */
  transport: SessionTransport | undefined;
  /** Shown in session lists. */
  label: string | undefined;
  /** Shown in session lists. */
  platform: string | undefined;
  /** Milliseconds between heartbeats. */
  heartbeatIntervalMs: number;
}

/**
 * Heartbeats this device's session through the one retryer (at sign-in, then every
 * `heartbeatIntervalMs`, far inside the server's active window) and answers the app's
 * session questions.
 */
export class ClientSessions implements SessionsApi {
  readonly #options: ClientSessionsOptions;
  readonly #emitter = new Emitter<SessionsEvents>();
  #current: SessionInfo | null = null;
  #context: SignedInContext | null = null;
  #timer: unknown;

  constructor(options: ClientSessionsOptions) {
    this.#options = options;
  }

  get current(): SessionInfo | null {
    return this.#current;
  }

  /** Starts heartbeats for `context.session`. */
  signedIn(context: SignedInContext): void {
    this.signedOut();
    this.#context = context;
    if (this.#options.transport === undefined) return;
    void this.#beat(context);
  }

  /** Stops heartbeats and forgets the current session. */
  signedOut(): void {
    if (this.#timer !== undefined) this.#options.env.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#context = null;
    if (this.#current !== null) {
      this.#current = null;
      this.#emitter.emit('change', { current: null });
    }
  }

  /** A hint from the event stream that the session list changed: re-lists and tells the app. */
  async refresh(): Promise<void> {
    const context = this.#context;
    if (context === null || this.#options.transport === undefined) return;
    try {
      const sessions = await this.#options.transport.list(context.signal);
      if (this.#context !== context) return;
      this.#emitter.emit('change', { current: this.#current, sessions });
    } catch (error) {
      this.#failed(error);
    }
  }

  async list(): Promise<SessionInfo[]> {
    const { transport, context } = this.#require();
    return transport.list(context.signal);
  }

  async revoke(sessionId: string): Promise<void> {
    const { transport, context } = this.#require();
    await transport.revoke(sessionId, context.signal);
    await this.refresh();
  }

  async revokeAll(): Promise<void> {
    const { transport, context } = this.#require();
    await transport.revoke(undefined, context.signal);
    this.#markRevoked();
  }

  on<E extends keyof SessionsEvents>(event: E, listener: SessionsEvents[E]): this {
    this.#emitter.on(event, listener as never);
    return this;
  }

  off<E extends keyof SessionsEvents>(event: E, listener: SessionsEvents[E]): this {
    this.#emitter.off(event, listener as never);
    return this;
  }

  /**
   * One heartbeat, retried by the shared retryer until it lands, then the next one is timed.
   * A `session_revoked` answer marks this device signed out for the app.
   */
  async #beat(context: SignedInContext): Promise<void> {
    const transport = this.#options.transport as SessionTransport;
    const { label, platform } = this.#options;
    try {
      const info = await context.retryer.run(
        () =>
          transport.heartbeat(
            {
              clientId: context.clientId,
              sessionId: context.session.sessionId,
              ...(label === undefined ? {} : { label }),
              ...(platform === undefined ? {} : { platform }),
            },
            context.signal,
          ),
        context.signal,
      );
      if (this.#context !== context) return;
      const changed = !sameSession(this.#current, info);
      this.#current = info;
      if (changed) this.#emitter.emit('change', { current: info });
    } catch (error) {
      if (this.#context !== context) return;
      this.#failed(error);
      if (isSessionRevoked(error)) return;
    }
    if (this.#context !== context) return;
    this.#timer = this.#options.env.setTimeout(() => {
      this.#timer = undefined;
      if (this.#context === context) void this.#beat(context);
    }, this.#options.heartbeatIntervalMs);
  }

  #failed(error: unknown): void {
    if (isSessionRevoked(error)) this.#markRevoked();
  }

  #markRevoked(): void {
    const current = this.#current;
    if (current === null || current.revokedAt !== undefined) return;
    this.#current = { ...current, revokedAt: this.#options.env.now(), active: false };
    this.#emitter.emit('change', { current: this.#current });
  }

  #require(): { transport: SessionTransport; context: SignedInContext } {
    const transport = this.#options.transport;
    if (transport === undefined) throw transportLacks('sessions');
    const context = this.#context;
    if (context === null) throw new SyncError('auth', 'Not signed in');
    return { transport, context };
  }
}

/**
 * The error of a targeting call over a transport that does not speak session targeting (a
 * `restTransport` without `targeting: restTargeting()`, the usual mistake).
 */
export function transportLacks(part: string): SyncError {
  return new SyncError(
    'invalid',
    `The transport has no ${part} part: it does not speak session targeting (restTransport: pass targeting: restTargeting() from '@syncline/adapter-rest/targeting')`,
    { code: 'targeting_not_enabled' },
  );
}

/** `true` for the 401 a revoked session gets on every route. */
export function isSessionRevoked(error: unknown): boolean {
  return isSyncError(error) && error.kind === 'auth' && error.code === 'session_revoked';
}

function sameSession(a: SessionInfo | null, b: SessionInfo): boolean {
  return (
    a !== null &&
    a.sessionId === b.sessionId &&
    a.clientId === b.clientId &&
    a.label === b.label &&
    a.platform === b.platform &&
    a.active === b.active &&
    a.revokedAt === b.revokedAt
  );
}
