import type { SyncEvents } from '../api/events.js';
import { indexedDbAssetStore, memoryAssetStore } from '../assets/asset-store.js';
import type { AssetsApi } from '../assets/assets-api.js';
import { ClientAssets } from '../assets/client-assets.js';
import { DEFAULT_ASSET_CHUNK_BYTES, DEFAULT_ASSET_UPLOAD_WINDOW } from '../assets/transfer-io.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import type { DeliveryHandler } from '../deliveries/inbox.js';
import { type DeliveryListenerOptions, DeliveryListeners } from '../deliveries/listeners.js';
import { defaultLocks } from '../deliveries/locks.js';
import type { SyncEnvironment } from '../env/types.js';
import { asSyncError } from '../errors/as-sync-error.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Emitter } from '../observe/emitter.js';
import { TRANSFER_REQUEST_KIND } from '../protocol/sessions.js';
import type { Delivery } from '../protocol/types.js';
import type { StorageAdapter } from '../storage/types.js';
import type { SyncTransport } from '../transport/types.js';
import type { SessionsApi, SignedInContext } from './client-sessions.js';
import { SessionServices } from './session-services.js';
import type { TargetingOptions } from './targeting-options.js';

/** What a client hands {@link SessionTargeting.attach}: its parts and its event outlets. */
export interface TargetingHost {
  /** The client's options (label, platform, heartbeat, locks, asset store, chunk size; pull interval). */
  options: TargetingOptions & { pullIntervalMs?: number };
  /** The client's environment (online = server reachable). */
  env: SyncEnvironment;
  /** Device storage. */
  storage: StorageAdapter;
  /** The client's transport. */
  transport: SyncTransport;
  /** Makes ids. */
  newId: IdGenerator;
  /** The client's events: `deliveryFailed` and `transfer` outlets. */
  emitter: Emitter<SyncEvents>;
}

/** What session targeting needs of the multi-tab delivery inbox. */
export interface TabInbox {
  /**
   * The handlers `delivery` goes to, given this tab's `listeners` of its kind: one that hands
   * it to one tab's listeners, or none when no tab listens for its kind.
   */
  handlers(delivery: Delivery, listeners: readonly DeliveryHandler[]): readonly DeliveryHandler[];
  /** This tab's `delivery` listeners changed: a follower tells the leader. */
  announce(): void;
}

/** Session targeting as attached to one client: its APIs and its session lifecycle. */
export interface TargetingServices {
  /** `client.sessions`. */
  readonly sessions: SessionsApi;
  /** `client.deliveries`. */
  readonly deliveries: DeliveriesApi;
  /** `client.assets`. */
  readonly assets: AssetsApi;
  /** A user signed in and replication started. */
  signedIn(context: Omit<SignedInContext, 'signal'>): void;
  /** The user signed out, or the client stopped. */
  signedOut(): void;
  /** The client's `delivery` listeners (`client.on('delivery', listener, { kind })`). */
  readonly listeners: DeliveryListeners;
  /**
   * `client.on('delivery', listener, options)`: adds the listener and offers it the deliveries
   * waiting for this session (in any tab).
   * @throws SyncError `invalid` when `options.kind` is given but is not a non-empty string
   */
  listen(listener: DeliveryHandler, options?: DeliveryListenerOptions): void;
  /** `client.off('delivery', listener)`. */
  unlisten(listener: DeliveryHandler): void;
  /** A `delivery` listener was added: offer it the deliveries waiting for this session. */
  handlersChanged(): void;
  /**
   * With several tabs, the tabs' delivery inbox, which hands a delivery to one tab's listeners
   * (set by the tabs entry, so an app without tabs does not ship that wiring); `null` without.
   */
  tabInbox: TabInbox | null;
}

/**
 * Session targeting for a client: this device's session and the user's other devices, items
 * delivered to sessions, and files with progress. Made by {@link sessionTargeting} and passed
 * as `createSyncClient({ targeting })`.
 */
export interface SessionTargeting {
  /**
   * Builds the services of one client. Called once, by `createSyncClient`.
   * @internal
   */
  attach(host: TargetingHost): TargetingServices;
}

/**
 * Turns on session targeting (`client.sessions`, `client.deliveries`, `client.assets`, the
 * `delivery` and `transfer` events). It lives in its own entry so an app that does not use it
 * does not ship it; the transport must speak the session endpoints too (`restTransport` does
 * with `targeting: restTargeting()` from `@syncline/adapter-rest/targeting`).
 *
 * @example
 * ```ts
 * import { createSyncClient } from '@syncline/sync-core';
 * import { sessionTargeting } from '@syncline/sync-core/targeting';
 *
 * const client = createSyncClient({ transport, targeting: sessionTargeting(), label: 'Laptop' });
 * const others = await client.sessions.list();
 * ```
 */
export function sessionTargeting(): SessionTargeting {
  return { attach: attachTargeting };
}

function attachTargeting(host: TargetingHost): TargetingServices {
  const { options, env, transport, newId } = host;
  // The assets and the services refer to each other; both exist before any callback runs.
  let assets: ClientAssets | undefined;
  const listeners = new DeliveryListeners();
  const requireAssets = (): ClientAssets => assets as ClientAssets;
  const services = new SessionServices({
    env,
    storage: host.storage,
    transport,
    newId,
    locks: options.locks ?? defaultLocks(),
    label: options.label,
    platform: options.platform,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15 * 60_000,
    pollIntervalMs: options.pullIntervalMs ?? 30_000,
    handlers: (delivery) => {
      // This tab's listeners of its kind; with several tabs, the leader hands it to one tab's.
      const own = listeners.of(delivery.kind);
      return targeting.tabInbox?.handlers(delivery, own) ?? own;
    },
    prepare: (delivery, signal) => requireAssets().prepareDelivery(delivery, signal),
    internal: new Map([
      [TRANSFER_REQUEST_KIND, (delivery, signal) => requireAssets().serveRequest(delivery, signal)],
    ]),
    onError: (error, delivery) => host.emitter.emit('deliveryFailed', asSyncError(error), delivery),
    parts: [
      {
        signedIn: (context) => requireAssets().signedIn(context),
        signedOut: () => requireAssets().signedOut(),
        transferChanged: () => requireAssets().transferChanged(),
        reconnected: () => requireAssets().reconnected(),
      },
    ],
  });
  assets = new ClientAssets({
    env,
    transport,
    store:
      options.assetStore ??
      (typeof indexedDB === 'undefined' ? memoryAssetStore() : indexedDbAssetStore()),
    newId,
    deliveries: services.deliveries,
    chunkBytes: options.assetChunkBytes ?? DEFAULT_ASSET_CHUNK_BYTES,
    uploadWindow: options.assetUploadWindow ?? DEFAULT_ASSET_UPLOAD_WINDOW,
    publish: (progress) => host.emitter.emit('transfer', progress),
    storage: host.storage,
  });
  const targeting: TargetingServices = {
    sessions: services.sessions,
    deliveries: services.deliveries,
    assets,
    listeners,
    signedIn: (context) => services.signedIn(context),
    signedOut: () => services.signedOut(),
    handlersChanged: () => services.handlersChanged(),
    listen: (listener, options) => {
      listeners.add(listener, options);
      services.handlersChanged();
      targeting.tabInbox?.announce();
    },
    unlisten: (listener) => {
      listeners.remove(listener);
      targeting.tabInbox?.announce();
    },
    tabInbox: null,
  };
  return targeting;
}
