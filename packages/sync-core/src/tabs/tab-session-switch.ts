import { SessionSwitch, type SessionSwitchParts } from '../account/session-switch.js';
import type { StartedEngine } from '../engine/start-engine.js';
import type { Notifier } from '../observe/notifier.js';
import type { Outbox } from '../outbox/outbox.js';
import { userNamespace } from '../replica/keys.js';
import type { Replica } from '../replica/replica.js';
import type { AuthSession } from '../transport/types.js';
import { AnnouncingOutbox } from './announcing-outbox.js';
import type { TabLink } from './tab-link.js';

/**
 * The session switch of a client in a multi-tab app (made by `multiTab()`, so an app without
 * tabs does not ship it): only the elected tab replicates, a follower mirrors the leader, every
 * change to the live outbox is announced to the other tabs, and an election reloads the replica.
 */
export class TabSessionSwitch extends SessionSwitch {
  readonly #link: () => TabLink;
  /** The client's batched change notifications (a role change wakes subscribers). */
  readonly #notifier: Notifier;

  /**
   * @param parts - the client's parts
   * @param link - the link to the other tabs (made after the switch)
   */
  constructor(parts: SessionSwitchParts, link: () => TabLink) {
    super(parts);
    this.#link = link;
    this.#notifier = parts.notifier;
  }

  /**
   * The election changed this tab's role after start. A new leader reloads the replica from
   * storage (the mirror may miss what the old leader wrote last, and its outbox positions must
   * follow the stored ones), swaps it in once loaded, then starts replicating; its own calls made
   * meanwhile wait in the link and are carried out after. A deposed leader stops replicating
   * and mirrors the new one.
   */
  roleChanged(leader: boolean): void {
    const session = this.session;
    const link = this.#link();
    this.#notifier.touch();
    this.stop();
    if (!leader) {
      link.hello(this.replica.namespace);
      return;
    }
    const replica =
      session === null
        ? this.openLocal(true)
        : this.open(userNamespace(session.userId), this.scopeFor(session));
    this.chain(async () => {
      await replica.ready;
      if (this.session !== session || !link.elected) return;
      this.swap(replica);
      this.refresh(replica);
      await this.finish(session, replica);
    });
  }

  protected override open(namespace: string, scope: string): Replica {
    const outbox: Outbox = new AnnouncingOutbox((collection, id) => {
      if (outbox === this.replica.outbox) this.#link().recordsChanged(collection, [id]);
    });
    return super.open(namespace, scope, outbox);
  }

  /** A follower mirrors the leader and replicates nothing; a leader says so once it replicates. */
  protected override async replicate(
    session: AuthSession | null,
    replica: Replica,
    engine: StartedEngine,
  ): Promise<boolean> {
    const link = this.#link();
    if (!link.elected) {
      link.hello(replica.namespace);
      return false;
    }
    const replicating = await super.replicate(session, replica, engine);
    if (replicating) link.leading();
    return replicating;
  }
}
