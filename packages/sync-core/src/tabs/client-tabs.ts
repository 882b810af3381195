import type { TabRole } from '../api/client.js';
import type { SyncEvents } from '../api/events.js';
import type { Emitter } from '../observe/emitter.js';
import type { Notifier } from '../observe/notifier.js';
import type { SyncStatus } from '../status/types.js';
import type { TabHostParts } from './tab-host.js';
import type { TabLink } from './tab-link.js';

/** What {@link ClientTabs} connects: the client's side of the tab host, and its outlets. */
export interface ClientTabsParts extends Omit<TabHostParts, 'mirrored' | 'emitter' | 'changed'> {
  /** The client's events (the link follows changes, conflicts and dead letters). */
  emitter: Emitter<SyncEvents>;
  /** The client's batched notifications (the leader publishes its state after each batch). */
  notifier: Notifier;
  /** `false` before `start()` and after `stop()`: role changes are then ignored. */
  running(): boolean;
}

/**
 * A client's place among the tabs of a multi-tab app: the link to the other tabs, this tab's
 * role, and, in a follower, the leader's status mirrored. Made by `multiTab().connect`, so an
 * app without tabs does not bundle it.
 */
export class ClientTabs {
  /** The link to the other tabs. */
  readonly link: TabLink;
  /** A follower's copy of the leader's status. */
  #mirrored: SyncStatus | null = null;

  /**
   * @param parts - the client's side
   * @param connect - links the tab host to the other tabs
   */
  constructor(parts: ClientTabsParts, connect: (host: TabHostParts) => TabLink) {
    const { emitter, notifier } = parts;
    const link = connect({
      ...parts,
      emitter,
      changed: (collection, id) => notifier.changed(collection, id),
      mirrored: (status) => {
        if (status !== undefined) {
          this.#mirrored = status;
          emitter.emit('status', status);
        }
        notifier.touch();
      },
      roleChanged: (leader) => {
        if (!parts.running()) return;
        this.#mirrored = null;
        parts.roleChanged(leader);
      },
    });
    emitter.on('change', ({ collection, ids }) => link.recordsChanged(collection, ids));
    emitter.on('conflict', () => link.listsChanged());
    emitter.on('rejected', () => link.listsChanged());
    notifier.subscribe(() => link.publish());
    this.link = link;
  }

  /** The status this tab shows: a follower's is the leader's, once it has heard it. */
  status(own: SyncStatus): SyncStatus {
    return this.link.following && this.#mirrored !== null ? this.#mirrored : own;
  }

  /** `client.tabRole`. */
  get role(): TabRole {
    return this.link.elected ? 'leader' : 'follower';
  }
}
