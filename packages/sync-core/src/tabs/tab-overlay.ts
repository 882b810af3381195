import type { EngineContext } from '../engine/context.js';
import type { OutboxEntry } from '../outbox/outbox.js';
import type { JsonObject, Mutation } from '../protocol/types.js';
import type { Replica } from '../replica/replica.js';
import type { LocalWrite } from '../write/local-writer.js';

/*
 * A follower tab's own writes, shown in its view at once (DESIGN §3.5) while the leader takes
 * them: each is an in-memory outbox entry of the follower's mirror (never stored or pushed; the
 * follower pushes nothing), put back after every state the leader broadcasts and removed when
 * the leader answers the write (its broadcast carries the write by then) or refuses it.
 */

interface Overlay {
  replica: Replica;
  mutations: Mutation[];
  bases: Array<JsonObject | null>;
  entries: OutboxEntry[];
}

/** The overlays of one follower client. */
export class TabOverlays {
  readonly #live = new Set<Overlay>();
  readonly #changed: (collection: string, id: string) => void;

  constructor(changed: (collection: string, id: string) => void) {
    this.#changed = changed;
  }

  /** Shows `writes` in `replica`'s view now; the returned function takes them out again. */
  add(ctx: EngineContext, replica: Replica, writes: readonly LocalWrite[], txId?: string) {
    const overlay: Overlay = { replica, mutations: [], bases: [], entries: [] };
    for (const write of writes) {
      const base = replica.store.base(write.collection, write.id);
      overlay.mutations.push({
        id: ctx.newId(),
        scope: replica.scope,
        collection: write.collection,
        recordId: write.id,
        op: write.op,
        baseRevision: base?.revision ?? 0,
        hlc: ctx.clock.tick(),
        ...(write.data === undefined ? {} : { data: write.data }),
        ...(txId === undefined ? {} : { txId }),
      });
      overlay.bases.push(base === undefined || base.deleted ? null : base.data);
    }
    this.#live.add(overlay);
    this.#show(overlay);
    return (): void => {
      this.#live.delete(overlay);
      this.#hide(overlay);
    };
  }

  /** The leader's state was applied to `replica`: the overlays go back on top of it. */
  reapply(replica: Replica): void {
    for (const overlay of this.#live) {
      if (overlay.replica !== replica) continue;
      this.#hide(overlay);
      this.#show(overlay);
    }
  }

  #show(overlay: Overlay): void {
    const { outbox, store } = overlay.replica;
    overlay.mutations.forEach((mutation, i) => {
      overlay.entries.push(outbox.adopt(mutation, overlay.bases[i] ?? null));
      if (store.recompute(mutation.collection, mutation.recordId)) {
        this.#changed(mutation.collection, mutation.recordId);
      }
    });
  }

  #hide(overlay: Overlay): void {
    const { outbox, store } = overlay.replica;
    for (const entry of overlay.entries.splice(0)) {
      outbox.remove(entry);
      const { collection, recordId } = entry.mutation;
      if (store.recompute(collection, recordId)) this.#changed(collection, recordId);
    }
  }
}
