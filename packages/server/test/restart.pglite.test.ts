/**
 * A server restart on a PGlite data directory keeps records, versions, stored outcomes and
 * the database epoch, so clients' checkpoints stay valid.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { authOf, put, request, revisionOf } from './support.js';

describe('pgliteStore restart', () => {
  it('keeps data, versions, outcomes and checkpoints across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'syncline-restart-'));
    try {
      const auth = authOf('alice');
      const scope = 'user:alice';
      const m = put(scope, 'r1', { v: 1 });
      const before = await pgliteStore({ dataDir });
      expect(revisionOf((await before.push(auth, request([m]))).results[0])).toBe(1);
      const { checkpoint } = await before.pull(auth, { scope, checkpoint: null });
      await before.close();

      const after = await pgliteStore({ dataDir });
      try {
        // The re-sent mutation is answered from its stored outcome, not applied again.
        const again = await after.push(auth, request([m, put(scope, 'r2', { v: 2 })]));
        expect(again.results.map(revisionOf)).toEqual([1, 2]);
        const page = await after.pull(auth, { scope, checkpoint });
        expect(page.resetRequired).toBeUndefined();
        expect(page.changes.map((c) => c.id)).toEqual(['r2']);
      } finally {
        await after.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
