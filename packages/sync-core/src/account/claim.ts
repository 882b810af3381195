import type { EngineContext } from '../engine/context.js';
import type { JsonObject } from '../protocol/types.js';
import { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { AuthSession } from '../transport/types.js';

/** What a `claimLocalData` callback is shown before it decides. */
export interface LocalDataClaim {
  /** The user who just signed in. */
  userId: string;
  /** The records written while signed out, per collection. */
  records: Array<{ collection: string; id: string; data: JsonObject | null }>;
}

/**
 * What happens to data written while signed out when a user signs in:
 * `'auto'` claims it for that user, `'never'` leaves it local, a function decides (it may
 * show a prompt; `true` claims).
 */
export type ClaimLocalData = 'auto' | 'never' | ((claim: LocalDataClaim) => Promise<boolean>);

/**
 * Offers data written while signed out to the user who signs in (DESIGN §3.9). Local data
 * lives only in the `local` outbox (it was never pushed). If the policy claims it, every local
 * mutation is re-scoped to the user's scope and moved, in order, into the user's outbox, then
 * removed from `local`: first written to the user's namespace, then deleted from `local`. A crash
 * in between leaves it in both; mutation ids are kept, so a second claim skips the ones already
 * moved and the server deduplicates anything sent twice. It never reaches another user: the
 * policy runs for the user signing in, and claimed data leaves `local`.
 */
export async function claimLocalData(
  ctx: EngineContext,
  policy: ClaimLocalData,
  session: AuthSession,
  local: Replica,
  target: Replica,
  stillCurrent: () => boolean,
): Promise<void> {
  if (local.outbox.size === 0) return;
  // 'never' (or anything but 'auto' and a callback) claims nothing.
  let claim = policy === 'auto';
  if (typeof policy === 'function') {
    const records: LocalDataClaim['records'] = [];
    for (const entry of local.outbox.entries()) {
      const { collection, recordId } = entry.mutation;
      // Each record once, at its oldest entry.
      if (local.outbox.forRecord(collection, recordId)?.[0] !== entry) continue;
      records.push({
        collection,
        id: recordId,
        data: local.store.get(collection, recordId) ?? null,
      });
    }
    try {
      claim = (await policy({ userId: session.userId, records })) === true;
    } catch {
      // A callback that fails claims nothing.
    }
  }
  if (!claim || !stillCurrent() || local.outbox.size === 0) return;
  const already = new Set<string>();
  for (const entry of target.outbox.entries()) already.add(entry.mutation.id);
  const moved = [...local.outbox.entries()];
  const adoption = new ReplicaBatch(target);
  const adopted = [];
  for (const entry of moved) {
    if (already.has(entry.mutation.id)) continue;
    adopted.push(adoption.adopt({ ...entry.mutation, scope: target.scope }, entry.base));
  }
  try {
    await adoption.commit(ctx.storage);
  } catch (error) {
    for (const added of adopted) target.outbox.remove(added);
    throw error;
  }
  const removal = new ReplicaBatch(local);
  for (const entry of moved) removal.unqueue(entry);
  try {
    await removal.commit(ctx.storage);
  } finally {
    // Whether or not `local` forgot them on disk (a second claim skips what was moved), they
    // are the user's now: the user's view shows them, the signed-out view does not.
    for (const entry of moved) {
      const { collection, recordId } = entry.mutation;
      local.store.recompute(collection, recordId);
      if (target.store.recompute(collection, recordId)) ctx.notifier.changed(collection, recordId);
    }
  }
  ctx.refreshCounts(target);
}
