import type { SessionSwitchParts } from '../account/session-switch.js';
import type { TabRole } from '../api/client.js';
import type { SyncEvents } from '../api/events.js';
import type { Emitter } from '../observe/emitter.js';
import type { SyncNowOptions, SyncNowResult } from '../replication/sync-now.js';
import type { SyncStatus } from '../status/types.js';
import type { WritePathParts } from '../write/write-path.js';
import type { ServeParts, TabHostParts } from './tab-host.js';
import type { TabLink } from './tab-link.js';
import { TabSessionSwitch } from './tab-session-switch.js';
import { TabWritePath } from './tab-write-path.js';

/**
 * What {@link ClientTabs} connects: the client's parts (those of its session switch and its
 * write path, a {@link TabSessionSwitch} and a {@link TabWritePath} made here), from which it
 * also builds its side of the tab host (here, so that an app without tabs does not ship that
 * wiring).
 */
export interface ClientTabsParts extends SessionSwitchParts, WritePathParts {
  /** The client's events (the link follows changes, conflicts and dead letters). */
  readonly emitter: Emitter<SyncEvents>;
  /** The client, for the calls that are its public methods. */
  readonly client: ServeParts['client'];
}

/**
 * A client's place among the tabs of a multi-tab app: the link to the other tabs, this tab's
 * role, and, in a follower, the leader's status mirrored. Made by `multiTab().connect`, so an
 * app without tabs does not bundle it.
 */
export class ClientTabs {
  /** The link to the other tabs. */
  readonly link: TabLink;
  /** The client's session switch: only the elected tab replicates. */
  readonly sessions: TabSessionSwitch;
  /** The client's write path: a follower's writes go to the leader. */
  readonly writes: TabWritePath;
  /** A follower's copy of the leader's status. */
  #mirrored: SyncStatus | null = null;

  /**
   * @param parts - the client's side
   * @param connect - links the tab host to the other tabs
   */
  constructor(parts: ClientTabsParts, connect: (host: TabHostParts) => TabLink) {
    const { emitter, env, storage, targeting, notifier } = parts;
    const sessions = new TabSessionSwitch(parts, () => this.link);
    const writes = new TabWritePath(parts, () => this.link);
    const ctx = () => parts.engine()?.ctx ?? null;
    const link = connect({
      env,
      storage,
      targeting,
      newId: parts.newId,
      emitter,
      replica: () => (ctx() === null ? null : sessions.replica),
      status: () => parts.status.snapshot,
      sessionId: () => sessions.session?.sessionId ?? null,
      serve: () => {
        const started = ctx();
        if (started === null) throw new Error('no engine before start');
        return {
          ctx: started,
          replica: sessions.replica,
          write: (calls, txId, extraOps) => writes.write(calls, txId, extraOps),
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
    this.sessions = sessions;
    this.writes = writes;
  }

  /** The status this tab shows: a follower's is the leader's, once it has heard it. */
  status(own: SyncStatus): SyncStatus {
    return this.link.following && this.#mirrored !== null ? this.#mirrored : own;
  }

  /** A follower's `client.syncNow()`, which the leader runs; `undefined` in the leader. */
  syncNow(options: SyncNowOptions): Promise<SyncNowResult> | undefined {
    if (!this.link.following) return undefined;
    const { signal: _signal, ...rest } = options;
    return this.link.call({ kind: 'syncNow', options: rest }) as Promise<SyncNowResult>;
  }

  /** `client.tabRole`. */
  get role(): TabRole {
    return this.link.elected ? 'leader' : 'follower';
  }
}
