import { LOCAL_NAMESPACE, type Replica } from '../client/replica.js';
import type { EngineContext } from '../engine/context.js';
import type { JsonObject } from '../protocol/types.js';
import type { StorageWrite } from '../storage/types.js';
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
 *
 * @returns `true` when something was moved (the caller pushes)
 */
export async function claimLocalData(
  ctx: EngineContext,
  policy: ClaimLocalData,
  session: AuthSession,
  local: Replica,
  target: Replica,
  stillCurrent: () => boolean,
): Promise<boolean> {
  if (local.outbox.size === 0) return false;
  let claim: boolean;
  if (policy === 'auto') claim = true;
  else if (policy === 'never') claim = false;
  else {
    const seen = new Set<string>();
    const records: LocalDataClaim['records'] = [];
    for (const entry of local.outbox.entries()) {
      const { collection, recordId } = entry.mutation;
      const key = `${collection}/${recordId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      records.push({
        collection,
        id: recordId,
        data: local.store.get(collection, recordId) ?? null,
      });
    }
    try {
      claim = (await policy({ userId: session.userId, records })) === true;
    } catch {
      claim = false;
    }
  }
  if (!claim || !stillCurrent() || local.outbox.size === 0) return false;
  const already = new Set<string>();
  for (const entry of target.outbox.entries()) already.add(entry.mutation.id);
  const moved = [...local.outbox.entries()];
  const targetOps: StorageWrite[] = [];
  const localOps: StorageWrite[] = [];
  const adopted = [];
  for (const entry of moved) {
    localOps.push({ type: 'delete', key: entry.key });
    if (already.has(entry.mutation.id)) continue;
    const mutation = { ...entry.mutation, scope: target.scope };
    const added = target.outbox.adopt(mutation, entry.base);
    adopted.push(added);
    targetOps.push({
      type: 'set',
      key: added.key,
      value: { seq: added.seq, mutation, base: entry.base },
    });
  }
  try {
    await ctx.storage.write(target.namespace, targetOps);
  } catch (error) {
    for (const added of adopted) target.outbox.remove(added);
    throw error;
  }
  await ctx.storage.write(LOCAL_NAMESPACE, localOps);
  for (const entry of moved) {
    local.outbox.remove(entry);
    const { collection, recordId } = entry.mutation;
    local.store.recompute(collection, recordId);
    if (target.store.recompute(collection, recordId)) ctx.notifier.changed(collection, recordId);
  }
  ctx.refreshCounts(target);
  return true;
}
