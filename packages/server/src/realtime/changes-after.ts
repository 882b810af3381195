/**
 * The read behind a poke that carries its changes: a pull page from the checkpoint of a
 * version, through the store's own pull query, so a poke holds exactly what a pull from that
 * checkpoint would have returned.
 *
 * @module
 */
import type { PullRequest, PullResponse } from '@syncline/sync-core/protocol';
import { decodeCheckpoint, encodeCheckpoint } from '../store/checkpoint.js';
import type { ChangesAfter } from '../store/types.js';

/**
 * Reads the changes of `scope` after `version` with `pull` (the store's pull of a database
 * with `epoch`); `undefined` when a pull could not continue from there (`resetRequired`).
 */
export async function readChangesAfter(
  pull: (request: PullRequest) => Promise<PullResponse>,
  epoch: string,
  scope: string,
  version: number,
  limit: number,
): Promise<ChangesAfter | undefined> {
  const fromCheckpoint = encodeCheckpoint(epoch, version);
  const page = await pull({ scope, checkpoint: fromCheckpoint, limit });
  const through = decodeCheckpoint(page.checkpoint, epoch);
  if (page.resetRequired === true || through === undefined) return undefined;
  const { changes, checkpoint, hasMore } = page;
  return { fromCheckpoint, checkpoint, version: through, changes, hasMore };
}
