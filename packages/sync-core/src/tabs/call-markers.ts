import { CALL_MARKER_PREFIX } from '../replica/keys.js';
import type { StorageAdapter } from '../storage/types.js';

/*
 * A follower's write travels to the leader as a call with an id; the leader stores a marker
 * `t/<id>` in the same storage write as the outbox entries. A follower sends its unanswered
 * calls again to each new leader, which skips a call whose marker exists: a write that landed
 * before the old leader died is neither lost nor queued twice.
 */

/** Markers older than this are pruned when a tab becomes the leader. */
const KEEP_MS = 24 * 60 * 60 * 1000;

/** Storage key of a call's marker. */
export function callMarkerKey(requestId: string): string {
  return CALL_MARKER_PREFIX + requestId;
}

/** Deletes the markers of calls answered long ago. */
export async function pruneCallMarkers(
  storage: StorageAdapter,
  namespace: string,
  now: number,
): Promise<void> {
  const old = (await storage.list(namespace, CALL_MARKER_PREFIX)).filter(
    ([, at]) => typeof at !== 'number' || now - at > KEEP_MS,
  );
  if (old.length > 0) {
    await storage.write(
      namespace,
      old.map(([key]) => ({ type: 'delete', key })),
    );
  }
}
