import type { ConflictDecision } from '../conflict/types.js';
import type { StorageWrite } from '../storage/types.js';
import type { LocalWrite } from '../write/local-writer.js';
import { WritePath, type WritePathParts } from '../write/write-path.js';
import type { TabLink } from './tab-link.js';
import type { TabCall } from './tab-messages.js';

/**
 * The write path of a client in a multi-tab app (made by `multiTab()`, so an app without tabs
 * does not ship it): a follower checks its writes as any client does, then sends them, and the
 * app's settlement calls, to the leader.
 */
export class TabWritePath extends WritePath {
  readonly #link: () => TabLink;

  /**
   * @param parts - the client's parts
   * @param link - the link to the other tabs (made after the write path)
   */
  constructor(parts: WritePathParts, link: () => TabLink) {
    super(parts);
    this.#link = link;
  }

  /** In a follower, writes without storage ops of their own go to the leader. */
  override write(writes: LocalWrite[], txId?: string, extraOps?: StorageWrite[]): Promise<void> {
    const link = this.#link();
    if (!link.following || extraOps !== undefined) return super.write(writes, txId, extraOps);
    this.ctx(); // before start(), a follower's write fails as every client's does
    const call: TabCall = { kind: 'write', writes, ...(txId === undefined ? {} : { txId }) };
    return link.write(call).then(() => undefined);
  }

  override retryDeadLetter(mutationId: string): Promise<void> {
    return (
      this.#follow({ kind: 'retryDeadLetter', mutationId }) ?? super.retryDeadLetter(mutationId)
    );
  }

  override discardDeadLetter(mutationId: string): Promise<void> {
    return (
      this.#follow({ kind: 'discardDeadLetter', mutationId }) ?? super.discardDeadLetter(mutationId)
    );
  }

  override resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void> {
    return (
      this.#follow({ kind: 'resolveConflict', mutationId, decision }) ??
      super.resolveConflict(mutationId, decision)
    );
  }

  /** In a follower, `call` sent to the leader (for the calls that answer nothing); else `undefined`. */
  #follow(call: TabCall): Promise<void> | undefined {
    const link = this.#link();
    return link.following ? link.call(call).then(() => undefined) : undefined;
  }
}
