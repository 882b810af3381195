import type { SyncClient } from '../api/client.js';
import type { SyncEvents } from '../api/events.js';
import type { EngineContext } from '../engine/context.js';
import type { SyncEnvironment } from '../env/types.js';
import { appCallbackError } from '../errors/as-sync-error.js';
import type { Emitter } from '../observe/emitter.js';
import type { Replica } from '../replica/replica.js';
import type { TargetingServices } from '../sessions/session-targeting.js';
import type { SyncStatus } from '../status/types.js';
import type { StorageAdapter, StorageWrite } from '../storage/types.js';
import { deepFreeze } from '../store/freeze.js';
import type { LocalWrite } from '../write/local-writer.js';
import { callMarkerKey, pruneCallMarkers } from './call-markers.js';
import {
  applyLists,
  applyRecords,
  captureAll,
  captureLists,
  captureRecords,
  decodeStatus,
} from './mirror.js';
import type { TabHost } from './tab-link.js';
import type { TabCall } from './tab-messages.js';
import { TabOverlays } from './tab-overlay.js';

/** What the client gives {@link tabHost}. */
export interface TabHostParts {
  /** The environment. */
  env: SyncEnvironment;
  /** The live replica, `null` before start. */
  replica(): Replica | null;
  /** The client's own status. */
  status(): SyncStatus;
  /** Announces a changed record of the view. */
  changed(collection: string, id: string): void;
  /** The mirror changed; with the leader's status when it sent one. */
  mirrored(status: SyncStatus | undefined): void;
  /** Where the leader stores call markers. */
  storage: StorageAdapter;
  /** The leader's live replica and write path, to carry out calls with. */
  serve(): ServeParts;
  /** The tab's role changed. */
  roleChanged(leader: boolean): void;
  /** The client's session targeting, or `null`. */
  targeting: TargetingServices | null;
  /** The client's events. */
  emitter: Emitter<SyncEvents>;
  /** The signed-in session's id, or `null`. */
  sessionId(): string | null;
  /** Makes ids. */
  newId(): string;
}

/** The client's side of the {@link TabHost} contract, over its live replica. */
export function tabHost(parts: TabHostParts): TabHost {
  const overlays = new TabOverlays(parts.changed);
  const live = (): Replica => {
    const replica = parts.replica();
    if (replica === null) throw new Error('no replica before start');
    return replica;
  };
  return {
    env: parts.env,
    namespace: () => parts.replica()?.namespace ?? null,
    captureAll: () => captureAll(live()),
    captureRecords: (keys) => captureRecords(live(), keys),
    captureLists: () => captureLists(live()),
    status: parts.status,
    applyState(message) {
      const replica = live();
      applyRecords(replica, message.records, parts.changed, message.full);
      overlays.reapply(replica);
      if (message.lists !== undefined) applyLists(replica, message.lists);
      parts.mirrored(message.status === undefined ? undefined : decodeStatus(message.status));
    },
    serve: (call, requestId) => serveTabCall(call, requestId, parts.serve()),
    pruneMarkers: () => {
      const namespace = parts.replica()?.namespace;
      if (namespace === undefined) return Promise.resolve();
      return pruneCallMarkers(parts.storage, namespace, parts.env.now());
    },
    roleChanged: parts.roleChanged,
    targeting: targetingParts(parts),
    overlay(call) {
      const undo = overlays.add(parts.serve().ctx, live(), call.writes, call.txId);
      parts.mirrored(undefined);
      return () => {
        undo();
        parts.mirrored(undefined);
      };
    },
  };
}

function targetingParts(parts: TabHostParts): TabHost['targeting'] {
  const { targeting: services, emitter } = parts;
  if (services === null) return null;
  return {
    services,
    listeners: (kind) => services.listeners.of(kind),
    listened: () => services.listeners.listened(),
    deliveryFailed: (error, delivery) =>
      emitter.emit('deliveryFailed', appCallbackError(error), delivery),
    transfer: (progress) => emitter.emit('transfer', progress),
    onTransfer: (listener) => emitter.on('transfer', listener),
    sessionId: parts.sessionId,
    storage: parts.storage,
    newId: parts.newId,
  };
}

/** What {@link serveTabCall} works on: the leader's live replica and its write path. */
export interface ServeParts {
  /** The engine context. */
  ctx: EngineContext;
  /** The live replica. */
  replica: Replica;
  /** The client's write path (with storage ops written atomically with the writes). */
  write(writes: LocalWrite[], txId: string | undefined, extraOps: StorageWrite[]): Promise<void>;
  /** The client, for the calls that are its public methods. */
  client: Pick<SyncClient, 'syncNow' | 'retryDeadLetter' | 'discardDeadLetter' | 'resolveConflict'>;
}

/**
 * The leader carries out a call. A write is skipped when its marker is in storage: it landed
 * with an earlier leader (see tabs/call-markers.ts); otherwise the marker goes with it.
 */
export async function serveTabCall(
  call: Exclude<TabCall, { kind: 'api' }>,
  requestId: string,
  { ctx, replica, write, client }: ServeParts,
): Promise<unknown> {
  switch (call.kind) {
    case 'write': {
      await replica.ready;
      const marker = callMarkerKey(requestId);
      if ((await ctx.storage.get(replica.namespace, marker)) !== undefined) return undefined;
      const writes = call.writes.map((one) => deepFreeze(one));
      return write(writes, call.txId, [{ type: 'set', key: marker, value: ctx.env.now() }]);
    }
    case 'syncNow':
      return client.syncNow(call.options);
    case 'retryDeadLetter':
      return client.retryDeadLetter(call.mutationId);
    case 'discardDeadLetter':
      return client.discardDeadLetter(call.mutationId);
    case 'resolveConflict':
      return client.resolveConflict(call.mutationId, call.decision);
  }
}
