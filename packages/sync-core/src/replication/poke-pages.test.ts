/**
 * Pokes that carry their changes, through a real client and the in-memory server: applied with
 * no pull when they continue the checkpoint (also out of order), ignored when already covered
 * (duplicates), and a pull whenever one cannot be placed (gap, malformed page).
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import type { Poke } from '../protocol/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

/** A reader device whose pokes the test holds and delivers by hand. */
async function setup() {
  const server = createMemoryServer();
  const held: Poke[] = [];
  let deliver: (poke: Poke) => void = () => undefined;
  const inner = server.connect({ userId: 'u1' });
  const transport: SyncTransport = {
    push: (request, signal) => inner.push(request, signal),
    pull: (request, signal) => inner.pull(request, signal),
    session: inner.session,
    subscribe: (options) => {
      deliver = options.onPoke;
      return inner.subscribe({ ...options, onPoke: (poke) => held.push(poke) });
    },
  };
  const reader = createSyncClient({
    transport,
    storage: memoryStorage(),
    environment: testEnvironment({ seed: 1 }),
  });
  await reader.start();
  await reader.syncNow();
  const writer = server.connect({ userId: 'u1' });
  let n = 0;
  const write = async (id: string) => {
    n++;
    await writer.push({
      clientId: 'writer',
      sessionId: 'w',
      mutations: [
        {
          id: `0190a1b2-c3d4-7000-8000-${String(n).padStart(12, '0')}`,
          scope: 'user:u1',
          collection: 'todos',
          recordId: id,
          op: 'put',
          data: { title: id },
          baseRevision: 0,
          hlc: `0190a1b2c3d4:${n.toString(16).padStart(4, '0')}:writer`,
        },
      ],
    });
    await settle();
  };
  const pullsBefore = server.stats.pulls;
  return {
    server,
    reader,
    write,
    held,
    deliver: async (...pokes: Poke[]) => {
      for (const poke of pokes) deliver(poke);
      await settle();
    },
    pulls: () => server.stats.pulls - pullsBefore,
  };
}

describe('pokes that carry their changes', () => {
  it('applies pokes that continue the checkpoint with no pull, in whatever order they arrive', async () => {
    const t = await setup();
    await t.write('a');
    await t.write('b');
    await t.write('c');
    const [a, b, c] = t.held.splice(0);
    expect(a?.changes?.map((r) => r.id)).toEqual(['a']);
    await t.deliver(c!, a!, b!);
    expect(['a', 'b', 'c'].map((id) => t.reader.get('todos', id))).toEqual([
      { title: 'a' },
      { title: 'b' },
      { title: 'c' },
    ]);
    // A duplicate is already covered: nothing to apply and nothing to pull, plain or not.
    await t.deliver(b!, { scope: 'user:u1', version: 2, originClientId: 'writer' });
    expect(t.pulls()).toBe(0);
    await t.reader.stop();
  });

  it('pulls when a poke does not continue the checkpoint (a poke was lost)', async () => {
    const t = await setup();
    await t.write('lost');
    await t.write('next');
    const [, next] = t.held.splice(0);
    await t.deliver(next!);
    expect(t.pulls()).toBeGreaterThan(0);
    expect(t.reader.get('todos', 'lost')).toEqual({ title: 'lost' });
    expect(t.reader.get('todos', 'next')).toEqual({ title: 'next' });
    await t.reader.stop();
  });

  it('pulls instead of applying a poke whose page is malformed', async () => {
    const t = await setup();
    await t.write('x');
    const [x] = t.held.splice(0);
    const forged = { ...x!, changes: x!.changes!.map((r) => ({ ...r, scope: 'user:other' })) };
    await t.deliver(forged);
    expect(t.pulls()).toBeGreaterThan(0);
    expect(t.reader.get('todos', 'x')).toEqual({ title: 'x' });
    expect(t.reader.status.state).not.toBe('error');
    await t.reader.stop();
  });

  it('reports a malformed poke page in the status (the transport hands it over unchecked), and pulls', async () => {
    const t = await setup();
    const errors: unknown[] = [];
    t.reader.on('status', (status) => errors.push(status.error?.code));
    await t.write('x');
    const [x] = t.held.splice(0);
    await t.deliver({ ...x!, changes: [{ ...x!.changes![0]!, revision: -1 }] });
    expect(errors).toContain('invalid_response');
    expect(t.pulls()).toBeGreaterThan(0);
    expect(t.reader.get('todos', 'x')).toEqual({ title: 'x' });
    await t.reader.stop();
  });

  it('a plain poke of a version past the last page applied pulls; one it covers does not', async () => {
    const t = await setup();
    await t.write('a');
    await t.write('b');
    await t.deliver(...t.held.splice(0));
    expect(t.pulls()).toBe(0);
    await t.deliver({ scope: 'user:u1', version: 2, originClientId: 'writer' });
    expect(t.pulls()).toBe(0);
    await t.write('c');
    t.held.splice(0); // its page poke is lost; only a plain poke says version 3
    await t.deliver({ scope: 'user:u1', version: 3, originClientId: 'writer' });
    expect(t.pulls()).toBe(1);
    expect(t.reader.get('todos', 'c')).toEqual({ title: 'c' });
    await t.reader.stop();
  });
});
