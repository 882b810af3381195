// The broadcaster's in-process path: a push of this process that continues the last poke is
// poked from its own committed changes, with no read. Driven by a store whose notifications,
// commit feed and reads the test controls (the real stores run the same broadcaster in
// realtime-suite.ts, where either path may win the race between NOTIFY and the commit).
import type { Poke, SyncRecord } from '@syncline/sync-core/protocol';
import { describe, expect, it } from 'vitest';
import { PokeBroadcaster } from '../src/realtime/poke-broadcaster.js';
import type { ChangesAfter, CommittedChanges, SyncStore } from '../src/store/types.js';

const SCOPE = 'user:u1';
const checkpoint = (version: number) => `c1.0.${version}`;

function record(id: string, revision: number): SyncRecord {
  return {
    scope: SCOPE,
    collection: 'items',
    id,
    revision,
    hlc: 'h',
    deleted: false,
    data: { id },
  };
}

function commitOf(from: number, records: SyncRecord[], client = 'phone'): CommittedChanges {
  const version = from + records.length;
  return {
    scope: SCOPE,
    from,
    version,
    originClientId: client,
    fromCheckpoint: checkpoint(from),
    checkpoint: checkpoint(version),
    changes: records,
    hasMore: false,
  };
}

function setup() {
  const pokeListeners = new Set<(poke: Poke) => void>();
  const commitListeners = new Set<(commit: CommittedChanges) => void>();
  const reads: number[] = [];
  let log: SyncRecord[] = [];
  const store = {
    onPoke(listener: (poke: Poke) => void) {
      pokeListeners.add(listener);
      return () => pokeListeners.delete(listener);
    },
    onCommit(listener: (commit: CommittedChanges) => void) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
    async changesAfter(_scope: string, version: number): Promise<ChangesAfter> {
      reads.push(version);
      const changes = log.filter((r) => r.revision > version);
      const through = log.at(-1)?.revision ?? 0;
      return {
        fromCheckpoint: checkpoint(version),
        checkpoint: checkpoint(through),
        version: through,
        changes,
        hasMore: false,
      };
    },
  } as unknown as SyncStore;
  const broadcaster = new PokeBroadcaster({ store });
  const pokes: Poke[] = [];
  const decoder = new TextDecoder();
  const stop = broadcaster.subscribe([SCOPE], (frame) => {
    const text = decoder.decode(frame);
    pokes.push(JSON.parse(text.slice(text.indexOf('data: ') + 6)) as Poke);
  });
  return {
    pokes,
    reads,
    stop,
    notify: (version: number, client = 'phone') => {
      for (const l of pokeListeners) l({ scope: SCOPE, version, originClientId: client });
    },
    commit: (commit: CommittedChanges) => {
      log = [...log, ...commit.changes];
      for (const l of commitListeners) l(commit);
    },
    setLog: (records: SyncRecord[]) => {
      log = records;
    },
  };
}

describe('PokeBroadcaster, pushes of this process', () => {
  it('pokes a commit that continues the last poke from its own changes, and skips its notification', async () => {
    const t = setup();
    t.commit(commitOf(0, [record('a', 1)]));
    t.notify(1); // the scope's first poke is plain: where clients stand is unknown
    expect(t.pokes).toEqual([{ scope: SCOPE, version: 1, originClientId: 'phone' }]);
    t.commit(commitOf(1, [record('b', 2), record('c', 3)]));
    expect(t.pokes[1]).toEqual({
      scope: SCOPE,
      version: 3,
      originClientId: 'phone',
      fromCheckpoint: checkpoint(1),
      checkpoint: checkpoint(3),
      changes: [record('b', 2), record('c', 3)],
    });
    t.notify(3); // the same push's notification: already carried
    await Promise.resolve();
    expect(t.pokes).toHaveLength(2);
    expect(t.reads).toEqual([]);
    t.stop();
  });

  it('carries a push whose notification came before its commit feed (PGlite) with no read', async () => {
    const t = setup();
    t.commit(commitOf(0, [record('a', 1)]));
    t.notify(1);
    t.notify(2); // NOTIFY first ...
    t.commit(commitOf(1, [record('b', 2)])); // ... then the push's answer, in the same turn
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(t.pokes.map((p) => p.version)).toEqual([1, 2]);
    expect(t.pokes[1]?.changes).toEqual([record('b', 2)]);
    expect(t.reads).toEqual([]);
    // The next poke, read for another process's push, names that push's client only.
    t.setLog([record('a', 1), record('b', 2), record('x', 3)]);
    t.notify(3, 'laptop');
    await expect.poll(() => t.pokes.at(-1)?.version).toBe(3);
    expect(t.pokes[2]?.originClientId).toBe('laptop');
    t.stop();
  });

  it('leaves a commit that does not continue the last poke to the read of its notification', async () => {
    const t = setup();
    t.commit(commitOf(0, [record('a', 1)]));
    t.notify(1);
    // Version 2 came from another process (no commit event here); then our push made 3.
    t.setLog([record('a', 1), record('x', 2)]);
    t.commit(commitOf(2, [record('b', 3)]));
    expect(t.pokes).toHaveLength(1);
    t.notify(2, 'laptop');
    t.notify(3);
    await expect.poll(() => t.pokes.at(-1)?.version).toBe(3);
    expect(t.reads[0]).toBe(1);
    const changes = t.pokes.slice(1).flatMap((p) => p.changes ?? []);
    expect(changes.map((r) => r.id)).toEqual(['x', 'b']);
    t.stop();
  });
});
