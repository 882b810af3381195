/**
 * Pokes that carry their changes (realtime/poke-broadcaster.ts), against a real store: what a
 * poke carries is exactly the pull page from its `fromCheckpoint`; pokes of a scope chain;
 * whatever cannot be carried (first poke, too many changes, too much JSON, a failed read)
 * goes as a plain poke; and the whole path through `GET /v1/events`.
 */
import type { Poke, SyncRecord } from '@syncline/sync-core/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StartedServer, startServer } from '../src/node/start-server.js';
import { PokeBroadcaster, type PokeBroadcasterOptions } from '../src/realtime/poke-broadcaster.js';
import type { SyncStore } from '../src/store/types.js';
import { call, devToken, hlcNow, openEvents } from './http-support.js';
import { authOf, freshUser, put, request } from './support.js';

/** Registers the realtime tests; call inside a `describe`. */
export function realtimePokes(open: () => Promise<{ store: SyncStore; close(): Promise<void> }>) {
  let fixture: { store: SyncStore; close(): Promise<void> };
  beforeAll(async () => {
    fixture = await open();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  /** A broadcaster over the fixture's store (or a wrapper of it) and the pokes it sent. */
  const listen = (scope: string, options: Partial<PokeBroadcasterOptions> = {}) => {
    const broadcaster = new PokeBroadcaster({ store: fixture.store, ...options });
    const pokes: Poke[] = [];
    const decoder = new TextDecoder();
    const stop = broadcaster.subscribe([scope], (frame) => {
      const text = decoder.decode(frame);
      expect(text).toMatch(/^event: poke\ndata: [^\n]+\n\n$/);
      pokes.push(JSON.parse(text.slice('event: poke\ndata: '.length)) as Poke);
    });
    return { pokes, stop };
  };
  const pushTo = async (scope: string, ...ids: string[]) => {
    const userId = scope.slice('user:'.length);
    await fixture.store.push(
      authOf(userId),
      request(ids.map((id) => put(scope, id, { title: id }))),
    );
  };
  const pullFrom = (scope: string, checkpoint: string | null) =>
    fixture.store.pull(authOf(scope.slice('user:'.length)), { scope, checkpoint });

  it('sends the first poke of a scope plain, then pokes carrying exactly the pull page from their fromCheckpoint', async () => {
    const scope = `user:${freshUser()}`;
    const { pokes, stop } = listen(scope);
    await pushTo(scope, 'a');
    await expect.poll(() => pokes.length).toBe(1);
    expect(pokes[0]).toEqual({ scope, version: 1, originClientId: 'client-1' });
    const first = await pullFrom(scope, null);

    await pushTo(scope, 'b', 'c');
    await expect.poll(() => pokes.length).toBe(2);
    const page = await pullFrom(scope, first.checkpoint);
    expect(pokes[1]).toEqual({
      scope,
      version: 3,
      originClientId: 'client-1',
      fromCheckpoint: first.checkpoint,
      checkpoint: page.checkpoint,
      changes: page.changes,
    });
    expect(page.changes.map((r) => r.id)).toEqual(['b', 'c']);
    stop();
  });

  it('chains the pokes of a burst: each continues from the previous one, and together they hold every change', async () => {
    const scope = `user:${freshUser()}`;
    const { pokes, stop } = listen(scope);
    await pushTo(scope, 'first');
    await expect.poll(() => pokes.length).toBe(1);
    await Promise.all(Array.from({ length: 12 }, (_, i) => pushTo(scope, `r${i}`)));
    await expect.poll(() => pokes.at(-1)?.version).toBe(13);
    const carried: SyncRecord[] = [];
    let checkpoint = (await pullFrom(scope, null)).checkpoint;
    for (const poke of pokes.slice(1)) {
      expect(poke.changes).toBeDefined();
      carried.push(...(poke.changes ?? []));
      checkpoint = poke.checkpoint ?? '';
    }
    // Versions strictly increase, and each poke starts where the previous one ended.
    for (let i = 2; i < pokes.length; i++) {
      expect(pokes[i]?.fromCheckpoint).toBe(pokes[i - 1]?.checkpoint);
      expect(pokes[i]?.version).toBeGreaterThan(pokes[i - 1]?.version ?? 0);
    }
    expect(carried.map((r) => r.id).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `r${i}`).sort(),
    );
    expect(checkpoint).toBe((await pullFrom(scope, null)).checkpoint);
    stop();
  });

  it('sends a plain poke when the changes are too many or their JSON too long', async () => {
    const scope = `user:${freshUser()}`;
    const many = listen(scope, { maxChanges: 2 });
    const long = listen(scope, { maxJsonLength: 400 });
    await pushTo(scope, 'a');
    await expect.poll(() => many.pokes.length + long.pokes.length).toBe(2);
    await pushTo(scope, 'b', 'c', 'd');
    await expect.poll(() => many.pokes.length).toBe(2);
    expect(many.pokes[1]).toEqual({ scope, version: 4, originClientId: 'client-1' });
    await expect.poll(() => long.pokes.length).toBe(2);
    expect(long.pokes[1]).toEqual({ scope, version: 4, originClientId: 'client-1' });
    // Small enough again: the next poke carries its change, from the plain poke's version.
    const atPlain = (await pullFrom(scope, null)).checkpoint;
    await pushTo(scope, 'e');
    await expect.poll(() => many.pokes.length).toBe(3);
    expect(many.pokes[2]?.changes?.map((r) => r.id)).toEqual(['e']);
    expect(many.pokes[2]?.fromCheckpoint).toBe(atPlain);
    many.stop();
    long.stop();
  });

  it('sends a plain poke when reading the changes fails, and reports the error', async () => {
    const scope = `user:${freshUser()}`;
    const errors: unknown[] = [];
    const failing: SyncStore = {
      ...fixture.store,
      onPoke: (listener) => fixture.store.onPoke(listener),
      changesAfter: async () => {
        throw new Error('database went away');
      },
    };
    // Without the in-process commit feed, every poke is read (and this read fails).
    delete failing.onCommit;
    const { pokes, stop } = listen(scope, { store: failing, onError: (e) => errors.push(e) });
    await pushTo(scope, 'a');
    await pushTo(scope, 'b');
    await expect.poll(() => pokes.length).toBe(2);
    expect(pokes[1]).toEqual({ scope, version: 2, originClientId: 'client-1' });
    expect(errors).toHaveLength(1);
    stop();
  });

  it('names no origin when the changes hold commits of several clients', async () => {
    const scope = `user:${freshUser()}`;
    const { pokes, stop } = listen(scope);
    await pushTo(scope, 'a');
    await expect.poll(() => pokes.length).toBe(1);
    const userId = scope.slice('user:'.length);
    await Promise.all([
      fixture.store.push(authOf(userId), request([put(scope, 'x', {})], 'phone')),
      fixture.store.push(authOf(userId), request([put(scope, 'y', {})], 'laptop')),
    ]);
    await expect.poll(() => pokes.at(-1)?.version).toBe(3);
    for (const poke of pokes.slice(1)) {
      const ids = poke.changes?.map((r) => r.id) ?? [];
      if (ids.length === 2) expect(poke.originClientId).toBeUndefined();
      else expect(poke.originClientId).toBe(ids[0] === 'x' ? 'phone' : 'laptop');
    }
    stop();
  });

  it('forgets a scope with its last stream: the next stream starts with a plain poke', async () => {
    const scope = `user:${freshUser()}`;
    const broadcaster = new PokeBroadcaster({ store: fixture.store });
    const seen: string[] = [];
    const decoder = new TextDecoder();
    const sink = (frame: Uint8Array) => seen.push(decoder.decode(frame));
    const stop = broadcaster.subscribe([scope], sink);
    // The poke of b may come from the commit feed before b's notification arrives: wait for
    // the notification too, or it could reach the next subscription as a stale plain poke.
    const notified: number[] = [];
    const unlisten = fixture.store.onPoke((poke) => {
      if (poke.scope === scope) notified.push(poke.version);
    });
    await pushTo(scope, 'a');
    await pushTo(scope, 'b');
    await expect.poll(() => seen.length).toBe(2);
    await expect.poll(() => notified.includes(2)).toBe(true);
    unlisten();
    expect(seen[1]).toContain('"changes"');
    stop();
    const again = broadcaster.subscribe([scope], sink);
    await pushTo(scope, 'c');
    await expect.poll(() => seen.length).toBe(3);
    expect(seen[2]).not.toContain('"changes"');
    again();
  });

  it('sends every event stream of the scope the same poke with its changes', async () => {
    const server: StartedServer = await startServer({
      port: 0,
      store: fixture.store,
      devAuth: true,
    });
    try {
      const userId = freshUser();
      const scope = `user:${userId}`;
      const { token, sessionId } = await devToken(server.url, userId);
      const streams = await Promise.all(
        [1, 2, 3].map(() => openEvents(server.url, token, [scope])),
      );
      for (const events of streams) await expect.poll(() => events.comments).toContain('connected');
      const pushOne = (recordId: string) =>
        call(`${server.url}/v1/push`, {
          method: 'POST',
          token,
          json: {
            clientId: 'web',
            sessionId,
            mutations: [
              {
                id: crypto.randomUUID(),
                scope,
                collection: 'todos',
                recordId,
                op: 'put',
                data: { title: recordId },
                baseRevision: 0,
                hlc: hlcNow('web'),
              },
            ],
          },
        });
      expect((await pushOne('a')).status).toBe(200);
      for (const events of streams) await expect.poll(() => events.pokes.length).toBe(1);
      expect((await pushOne('b')).status).toBe(200);
      for (const events of streams) await expect.poll(() => events.pokes.length).toBe(2);
      const [one, ...others] = streams.map((events) => events.pokes[1]);
      expect(one?.changes).toMatchObject([{ id: 'b', revision: 2, data: { title: 'b' } }]);
      for (const poke of others) expect(poke).toEqual(one);
      for (const events of streams) events.close();
    } finally {
      await server.close();
    }
  });
}
