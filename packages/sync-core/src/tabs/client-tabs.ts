import type { TabRole } from '../api/client.js';
import type { SyncEvents } from '../api/events.js';
import type { EngineContext } from '../engine/context.js';
import type { Emitter } from '../observe/emitter.js';
import type { Notifier } from '../observe/notifier.js';
import type { Replica } from '../replica/replica.js';
import type { StatusMachine } from '../status/status-machine.js';
import type { SyncStatus } from '../status/types.js';
import type { AuthSession } from '../transport/types.js';
import type { ServeParts, TabHostParts } from './tab-host.js';
import type { TabLink } from './tab-link.js';

/** What the tabs need of the client's session switch. */
export interface TabSessions {
  /** The live replica. */
  readonly replica: Replica;
  /** The signed-in session, or `null`. */
  readonly session: AuthSession | null;
  /** The election changed this tab's role. */
  roleChanged(leader: boolean): void;
}

/**
 * What {@link ClientTabs} connects: the client's parts, from which it builds its side of the
 * tab host (here, so that an app without tabs does not ship that wiring).
 */
export interface ClientTabsParts
  extends Pick<TabHostParts, 'env' | 'storage' | 'targeting' | 'newId'> {
  /** The client's events (the link follows changes, conflicts and dead letters). */
  emitter: Emitter<SyncEvents>;
  /** The client's batched notifications (the leader publishes its state after each batch). */
  notifier: Notifier;
  /** The client's own status. */
  status: StatusMachine;
  /** The client's session switch: the live replica, the session, this tab's role changes. */
  sessions: TabSessions;
  /** The client's write path (a leader carries out its followers' writes with it). */
  writes: Pick<ServeParts, 'write'>;
  /** The engine context, or `null` before `start()`. */
  ctx(): EngineContext | null;
  /** The client, for the calls that are its public methods. */
  client: ServeParts['client'];
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
    const { emitter, notifier, sessions } = parts;
    const link = connect({
      env: parts.env,
      storage: parts.storage,
      targeting: parts.targeting,
      newId: parts.newId,
      emitter,
      replica: () => (parts.ctx() === null ? null : sessions.replica),
      status: () => parts.status.snapshot,
      sessionId: () => sessions.session?.sessionId ?? null,
      serve: () => {
        const ctx = parts.ctx();
        if (ctx === null) throw new Error('no engine before start');
        return {
          ctx,
          replica: sessions.replica,
          write: (writes, txId, extraOps) => parts.writes.write(writes, txId, extraOps),
          client: parts.client,
        };
      },
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
        sessions.roleChanged(leader);
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
