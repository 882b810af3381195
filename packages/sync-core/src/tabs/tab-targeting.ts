import type { AssetsApi, SendAssetOptions } from '../assets/assets-api.js';
import type { TransferProgress } from '../assets/progress.js';
import type { AssetSource } from '../assets/transfer-io.js';
import type { DeliveriesApi, SendDeliveryOptions } from '../deliveries/client-deliveries.js';
import { SyncError } from '../errors/sync-error.js';
import { Emitter } from '../observe/emitter.js';
import type { SessionInfo } from '../protocol/types.js';
import type { SessionsApi, SessionsEvents } from '../sessions/client-sessions.js';
import { TabDeliveries } from './tab-deliveries.js';
import type { DeliveryMessage, TabCall, TargetingMessage } from './tab-messages.js';
import type { TargetingLink, TargetingParts } from './targeting-parts.js';

/*
 * Session targeting in several tabs (docs/tabs.md): the leader tab runs the session services
 * (heartbeat, inbox, transfers) for the session the tabs share. A follower's `client.sessions`,
 * `client.deliveries` and `client.assets` send their calls to the leader over the tab link, as
 * writes go, and read the leader's mirrored state (this session, transfer progress); deliveries
 * reach one tab's `delivery` listeners (tab-deliveries.ts).
 */

type ApiCall = Extract<TabCall, { kind: 'api' }>;

/** The methods a follower may call on the leader's services. */
const CALLABLE: Record<ApiCall['api'], readonly string[]> = {
  sessions: ['list', 'revoke', 'revokeAll'],
  deliveries: ['send', 'status'],
  assets: ['send', 'request'],
};

/**
 * One tab's session targeting: the `client.sessions`, `client.deliveries` and `client.assets`
 * the app sees (the real services in the leader, forwarding facades in a follower) and the
 * leader's state mirrored into followers.
 */
export class TabTargeting {
  /** `client.sessions` in a tab of a multi-tab app. */
  readonly sessions: SessionsApi;
  /** `client.deliveries` in a tab of a multi-tab app. */
  readonly deliveries: DeliveriesApi;
  /** `client.assets` in a tab of a multi-tab app. */
  readonly assets: AssetsApi;
  /** Which tab runs a delivery's listeners. */
  readonly inbox: TabDeliveries;
  readonly #parts: TargetingParts;
  readonly #link: TargetingLink;
  readonly #changes = new Emitter<SessionsEvents>();
  /** Follower: the leader's session. */
  #current: SessionInfo | null = null;
  /** Follower: the leader's transfers by direction and id. */
  readonly #transfers = new Map<string, Readonly<TransferProgress>>();
  #transferList: readonly TransferProgress[] = Object.freeze([]);

  constructor(parts: TargetingParts, link: TargetingLink) {
    this.#parts = parts;
    this.#link = link;
    this.inbox = new TabDeliveries(parts, link);
    const real = parts.services;
    // The services hand each delivery to this inbox, which picks the tab whose listeners run it.
    real.tabInbox = this.inbox;
    real.sessions.on('change', (event) => {
      if (!link.serving()) return;
      this.#changes.emit('change', event);
      this.#publish({
        change: true,
        ...(event.sessions === undefined ? {} : { sessions: event.sessions }),
      });
    });
    parts.onTransfer((progress) => {
      if (link.serving()) this.#publish({ transfers: [progress] });
    });
    const either = <T>(api: ApiCall['api'], method: string, args: unknown[], local: () => T) =>
      (link.serving() ? local() : link.call({ kind: 'api', api, method, args })) as T;
    const mirror = this;
    this.sessions = {
      get current() {
        return link.serving() ? real.sessions.current : mirror.#current;
      },
      list: () => either('sessions', 'list', [], () => real.sessions.list()),
      revoke: (id) => either('sessions', 'revoke', [id], () => real.sessions.revoke(id)),
      revokeAll: () => either('sessions', 'revokeAll', [], () => real.sessions.revokeAll()),
      on(event, listener) {
        mirror.#changes.on(event, listener);
        return this;
      },
      off(event, listener) {
        mirror.#changes.off(event, listener);
        return this;
      },
    };
    this.deliveries = {
      send: (options: SendDeliveryOptions) =>
        either('deliveries', 'send', [{ ...options, id: options.id ?? parts.newId() }], () =>
          real.deliveries.send(options),
        ),
      status: (id) => either('deliveries', 'status', [id], () => real.deliveries.status(id)),
    };
    this.assets = {
      send: async (source, options: SendAssetOptions = {}) => {
        if (link.serving()) return real.assets.send(source, options);
        // A stream cannot cross the channel; a Blob crosses it without copying its bytes.
        const body = await cloneable(source);
        const sent = { ...options, id: options.id ?? parts.newId() };
        return either('assets', 'send', [body, sent], () => real.assets.send(body, sent));
      },
      add: (source, meta) => real.assets.add(source, meta),
      request: (hash, options) =>
        either('assets', 'request', [hash, options], () => real.assets.request(hash, options)),
      provide: (provider) => real.assets.provide(provider),
      get: (hash) => real.assets.get(hash),
      transfers: () => (link.serving() ? real.assets.transfers() : mirror.#transferList),
    };
  }

  /** Leader: carries out a follower's call on the real services. */
  serve(call: ApiCall): Promise<unknown> {
    const api = this.#parts.services[call.api] as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    if (!CALLABLE[call.api].includes(call.method)) {
      return Promise.reject(
        new SyncError('invalid', `client.${call.api}.${call.method} is not callable from a tab`),
      );
    }
    return Promise.resolve().then(() => api[call.method]?.(...call.args));
  }

  /** Leader: a follower asked for the whole state. */
  publishAll(): void {
    this.#publish({ transfers: this.#parts.services.assets.transfers(), full: true });
  }

  /** Follower: applies the leader's state. */
  mirror(message: TargetingMessage): void {
    const before = this.#current;
    this.#current = message.current;
    if (message.full === true) this.#transfers.clear();
    for (const progress of message.transfers ?? []) {
      this.#transfers.set(`${progress.direction}:${progress.id}`, Object.freeze(progress));
    }
    if (message.transfers !== undefined) {
      this.#transferList = Object.freeze([...this.#transfers.values()]);
      for (const progress of message.transfers) this.#parts.transfer(progress);
    }
    if (message.change === true || before?.sessionId !== message.current?.sessionId) {
      this.#changes.emit('change', {
        current: message.current,
        ...(message.sessions === undefined ? {} : { sessions: message.sessions }),
      });
    }
  }

  /** The tab's role changed: a follower's mirror is dropped, the leader's is its own state. */
  roleChanged(): void {
    this.#transfers.clear();
    this.#transferList = Object.freeze([]);
    this.inbox.roleChanged();
  }

  /** Routes a delivery message to the inbox part. */
  onDelivery(message: DeliveryMessage): void {
    this.inbox.onMessage(message);
  }

  #publish(parts: Omit<TargetingMessage, 't' | 'from' | 'current'>): void {
    this.#link.post({
      t: 'targeting',
      from: this.#link.tabId,
      current: this.#parts.services.sessions.current,
      ...parts,
    });
  }
}

/** A source that can cross a BroadcastChannel (a stream is read into a Blob). */
async function cloneable(source: AssetSource): Promise<Uint8Array | Blob> {
  if (source instanceof Uint8Array || !(source instanceof ReadableStream)) return source;
  return new Response(source).blob();
}
