import type { SyncClient } from '../api/client.js';
import type { TransferProgress } from '../assets/progress.js';
import type { IncomingDelivery } from '../deliveries/inbox.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import type { Observer } from './observers.js';

/** What {@link observeSessions} shows. */
export interface SessionsSnapshot {
  /** This device's session, once the server knows it (after its first heartbeat), or `null`. */
  current: SessionInfo | null;
  /** The user's sessions as last listed, or `null` until listed (or while signed out). */
  sessions: readonly SessionInfo[] | null;
}

/** An observer of the user's sessions that can list them again. */
export interface SessionsObserver extends Observer<SessionsSnapshot> {
  /** Lists the sessions now; listeners hear the result. Resolves when listed (or failed). */
  refresh(): Promise<void>;
}

// Pure, so an app without session targeting drops it from its bundle (see assets/sha256.ts).
const NO_SESSIONS: SessionsSnapshot = /* @__PURE__ */ Object.freeze({
  current: null,
  sessions: null,
});

/**
 * Observes this device's session and the user's session list. The list is fetched when the
 * first listener subscribes while signed in, when this device's session becomes known, and on
 * every `change` the client reports (the event stream hints at other devices' changes). The
 * snapshot keeps its identity until one of them changes.
 */
export function observeSessions(client: SyncClient): SessionsObserver {
  let snapshot = NO_SESSIONS;
  const listeners = new Set<() => void>();
  const set = (next: SessionsSnapshot): void => {
    if (next.current === snapshot.current && next.sessions === snapshot.sessions) return;
    snapshot = Object.freeze(next);
    for (const listener of [...listeners]) listener();
  };
  const refresh = async (): Promise<void> => {
    if (client.sessions.current === null && client.status.userId === null) {
      set({ current: null, sessions: null });
      return;
    }
    try {
      const sessions = Object.freeze(await client.sessions.list());
      set({ current: client.sessions.current, sessions });
    } catch {
      // Signed out meanwhile or unreachable: the last list stays; the next change lists again.
    }
  };
  const onChange = (event: { current: SessionInfo | null; sessions?: readonly SessionInfo[] }) => {
    if (event.sessions !== undefined) {
      set({ current: event.current, sessions: Object.freeze([...event.sessions]) });
    } else if (event.current === null) {
      set({ current: null, sessions: null });
    } else {
      set({ current: event.current, sessions: snapshot.sessions });
      void refresh();
    }
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        client.sessions.on('change', onChange);
        if (client.sessions.current !== null) void refresh();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) client.sessions.off('change', onChange);
      };
    },
    getSnapshot: () => snapshot,
    refresh,
  };
}

/**
 * Observes every upload and download of the client (`client.assets.transfers()`, a stable array
 * until one of them moves), for progress bars.
 */
export function observeTransfers(client: SyncClient): Observer<readonly TransferProgress[]> {
  return {
    subscribe(listener) {
      client.on('transfer', listener);
      return () => client.off('transfer', listener);
    },
    getSnapshot: () => client.assets.transfers(),
  };
}

/**
 * Observes the deliveries this session receives (of `kind`, or all): the list grows, newest
 * last, while someone subscribes. Subscribing registers a `delivery` listener of that kind
 * (`client.on('delivery', listener, { kind })`), which acknowledges each delivery once the
 * list has it. A delivery of another kind is neither listed nor acknowledged by it: it waits
 * for a listener of its own kind (or of every kind). One that arrives while nobody listens
 * waits on the server and is offered at the next subscription.
 */
export function observeDeliveries(
  client: SyncClient,
  kind?: string,
): Observer<readonly Delivery[]> {
  let received: readonly Delivery[] = Object.freeze([]);
  const listeners = new Set<() => void>();
  const onDelivery = (event: IncomingDelivery): void => {
    if (received.some((delivery) => delivery.id === event.delivery.id)) return;
    received = Object.freeze([...received, event.delivery]);
    for (const listener of [...listeners]) listener();
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) client.on('delivery', onDelivery, { kind });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) client.off('delivery', onDelivery);
      };
    },
    getSnapshot: () => received,
  };
}
