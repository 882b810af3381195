import { ClientDeliveries } from '../deliveries/client-deliveries.js';
import {
  type DeliveryHandler,
  DeliveryInbox,
  type InternalDeliveryHandler,
} from '../deliveries/inbox.js';
import type { LockManagerLike } from '../deliveries/locks.js';
import type { SyncEnvironment } from '../env/types.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Delivery } from '../protocol/types.js';
import type { StorageAdapter } from '../storage/types.js';
import type { SessionEvent, SyncTransport } from '../transport/types.js';
import { ClientSessions, type SignedInContext } from './client-sessions.js';

/** A part that follows sign-in and sign-out (the assets). */
export interface SessionPart {
  /** A user signed in. */
  signedIn(context: SignedInContext): void;
  /** The user signed out or the client stopped. */
  signedOut(): void;
  /** A transfer hint from the event stream. */
  transferChanged?(id: string): void;
  /** The event stream (re)connected. */
  reconnected?(): void;
}

/** Options of {@link SessionServices}. */
export interface SessionServicesOptions {
  /** Injected sources. */
  env: SyncEnvironment;
  /** Device storage. */
  storage: StorageAdapter;
  /** The client's transport. */
  transport: SyncTransport;
  /** Makes ids. */
  newId: IdGenerator;
  /** Lets one tab at a time handle a delivery. */
  locks: LockManagerLike;
  /** Shown in session lists. */
  label: string | undefined;
  /** Shown in session lists. */
  platform: string | undefined;
  /** Milliseconds between heartbeats. */
  heartbeatIntervalMs: number;
  /** Milliseconds between catch-up listings when no realtime hint arrives. */
  pollIntervalMs: number;
  /** The app's handlers of `delivery` (none: it is left unacknowledged). */
  handlers(delivery: Delivery): readonly DeliveryHandler[];
  /** Runs before the app's handlers (fetches a delivery's asset). */
  prepare(delivery: Delivery, signal: AbortSignal): Promise<boolean>;
  /** Internal delivery kinds. */
  internal: ReadonlyMap<string, InternalDeliveryHandler>;
  /** A delivery handler failed. */
  onError(error: unknown, delivery: Delivery): void;
  /** Other parts that follow the session (assets). */
  parts: readonly SessionPart[];
}

/**
 * Wires sessions, the delivery inbox and sending, and the event stream's hints, and moves them
 * together through sign-in, sign-out and stop. The client coordinator owns one.
 */
export class SessionServices {
  /** `client.sessions`. */
  readonly sessions: ClientSessions;
  /** `client.deliveries`. */
  readonly deliveries: ClientDeliveries;
  readonly #options: SessionServicesOptions;
  readonly #inbox: DeliveryInbox | null;
  #context: SignedInContext | null = null;
  #abort: AbortController | null = null;
  #cleanup: (() => void) | null = null;
  #pollTimer: unknown;

  constructor(options: SessionServicesOptions) {
    this.#options = options;
    const transport = options.transport;
    this.sessions = new ClientSessions({
      env: options.env,
      transport: transport.sessions,
      label: options.label,
      platform: options.platform,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    });
    this.deliveries = new ClientDeliveries({
      transport: transport.deliveries,
      newId: options.newId,
      context: () => this.#context,
    });
    this.#inbox =
      transport.deliveries === undefined
        ? null
        : new DeliveryInbox({
            env: options.env,
            storage: options.storage,
            transport: transport.deliveries,
            locks: options.locks,
            handlers: options.handlers,
            prepare: options.prepare,
            internal: options.internal,
            onError: options.onError,
          });
  }

  /** The signed-in context, or `null`. */
  get context(): SignedInContext | null {
    return this.#context;
  }

  /** Starts heartbeats, the inbox and the hints for `session`. */
  signedIn(context: Omit<SignedInContext, 'signal'>): void {
    this.signedOut();
    const abort = new AbortController();
    const full: SignedInContext = { ...context, signal: abort.signal };
    this.#abort = abort;
    this.#context = full;
    this.sessions.signedIn(full);
    for (const part of this.#options.parts) part.signedIn(full);
    const inbox = this.#inbox;
    if (inbox !== null) void inbox.signedIn(full);
    const subscribe = this.#options.transport.sessionEvents?.bind(this.#options.transport);
    if (subscribe !== undefined) {
      this.#cleanup = subscribe(
        (event) => this.#hint(event),
        () => this.#reconnected(),
      );
    }
    this.#schedulePoll(full);
  }

  /** Stops everything running for the current session. */
  signedOut(): void {
    this.#cleanup?.();
    this.#cleanup = null;
    if (this.#pollTimer !== undefined) this.#options.env.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#abort?.abort(new Error('signed out'));
    this.#abort = null;
    this.#context = null;
    this.#inbox?.signedOut();
    this.sessions.signedOut();
    for (const part of this.#options.parts) part.signedOut();
  }

  /** A handler was added: deliveries that waited for one are offered now. */
  handlersChanged(): void {
    if (this.#context !== null) void this.#inbox?.refresh();
  }

  /** Lists pending deliveries now. */
  refresh(): Promise<void> {
    return this.#inbox?.refresh() ?? Promise.resolve();
  }

  #hint(event: SessionEvent): void {
    if (event.type === 'delivery') {
      if (event.delivery === undefined) void this.#inbox?.refresh();
      else this.#inbox?.offer(event.delivery);
    } else if (event.type === 'session') void this.sessions.refresh();
    else for (const part of this.#options.parts) part.transferChanged?.(event.id);
  }

  /** A (re)connection may have missed hints: catch up on all of them. */
  #reconnected(): void {
    void this.#inbox?.refresh();
    for (const part of this.#options.parts) part.reconnected?.();
  }

  #schedulePoll(context: SignedInContext): void {
    this.#pollTimer = this.#options.env.setTimeout(() => {
      this.#pollTimer = undefined;
      if (this.#context !== context) return;
      this.#reconnected();
      this.#schedulePoll(context);
    }, this.#options.pollIntervalMs);
  }
}
