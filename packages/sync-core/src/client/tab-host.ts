import {
  applyLists,
  applyRecords,
  captureAll,
  captureLists,
  captureRecords,
  decodeStatus,
} from '../tabs/mirror.js';
import type { TabHost } from '../tabs/tab-link.js';
import type { TabCall } from '../tabs/tab-messages.js';
import type { Replica } from './replica.js';
import type { SyncEnvironment, SyncStatus } from './types.js';

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
  /** Carries out a call as the leader. */
  serve(call: TabCall, requestId: string): Promise<unknown>;
  /** The tab's role changed. */
  roleChanged(leader: boolean): void;
}

/** The client's side of the {@link TabHost} contract, over its live replica. */
export function tabHost(parts: TabHostParts): TabHost {
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
      if (message.lists !== undefined) applyLists(replica, message.lists);
      parts.mirrored(message.status === undefined ? undefined : decodeStatus(message.status));
    },
    serve: parts.serve,
    roleChanged: parts.roleChanged,
  };
}
