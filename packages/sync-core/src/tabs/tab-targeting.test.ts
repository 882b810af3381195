import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { memoryAssetStore } from '../assets/asset-store.js';
import { ASSET_DELIVERY_KIND } from '../assets/assets-api.js';
import type { TransferProgress } from '../assets/progress.js';
import { sha256Hex } from '../assets/sha256.js';
import { createSyncClient } from '../client/create-sync-client.js';
import type { IncomingDelivery } from '../deliveries/inbox.js';
import { sessions as toSessions } from '../deliveries/targets.js';
import type { Delivery } from '../protocol/types.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { multiTab } from './multi-tab.js';
import { fakeTabLocks } from './test-locks.js';

/*
 * Session targeting in a follower tab: `client.sessions`, `client.deliveries`, `client.assets`
 * forwarded to the leader, its state mirrored back, and each delivery run by one tab's listeners.
 */

const clients: SyncClient[] = [];

afterEach(async () => {
  vi.unstubAllGlobals();
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const CHUNK = 1000;

function bytes(length: number, salt = 1): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 7 + salt) & 0xff);
}

/** Tabs of one browser profile (session `s1` of user u1), and another device (session `s2`). */
function world() {
  const server = createMemoryServer();
  const storage = memoryStorage();
  const assetStore = memoryAssetStore();
  const locks = fakeTabLocks();
  const start = async (client: SyncClient) => {
    clients.push(client);
    await client.start();
    return client;
  };
  /** A tab; `listen` registers a `delivery` listener before start, as an app does. */
  const tab = (listen?: (event: IncomingDelivery) => void | Promise<void>) => {
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 's1' }),
      storage,
      assetStore,
      assetChunkBytes: CHUNK,
      targeting: sessionTargeting(),
      label: 'Browser',
      tabs: multiTab({ name: 'targeting', locks, leaderTimeoutMs: 400 }),
    });
    if (listen !== undefined) client.on('delivery', listen);
    return start(client);
  };
  const device = (listen?: (event: IncomingDelivery) => void) => {
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 's2' }),
      storage: memoryStorage(),
      assetStore: memoryAssetStore(),
      assetChunkBytes: CHUNK,
      targeting: sessionTargeting(),
      label: 'Phone',
    });
    if (listen !== undefined) client.on('delivery', listen);
    return start(client);
  };
  return { server, tab, device };
}

/** Collects what listeners receive, by delivery id. */
function counter() {
  const runs = new Map<string, number>();
  return {
    listen: ({ delivery }: IncomingDelivery) => {
      runs.set(delivery.id, (runs.get(delivery.id) ?? 0) + 1);
    },
    runs: (id: string) => runs.get(id) ?? 0,
  };
}

describe('session targeting in a follower tab', () => {
  it('sessions: current is mirrored, list and revoke go through the leader, change is heard', async () => {
    const { tab, device } = world();
    const a = await tab();
    const b = await tab();
    expect(a.tabRole).toBe('leader');
    expect(b.tabRole).toBe('follower');
    await until(() => b.sessions.current !== null);
    expect(b.sessions.current).toEqual(a.sessions.current);
    expect(b.sessions.current?.sessionId).toBe('s1');

    const phone = await device();
    await until(() => phone.sessions.current !== null);
    const listed = await b.sessions.list();
    expect(listed.map((s) => s.sessionId).sort()).toEqual(['s1', 's2']);

    const changes: Array<readonly string[] | undefined> = [];
    b.sessions.on('change', (event) => changes.push(event.sessions?.map((s) => s.sessionId)));
    await b.sessions.revoke('s2');
    expect((await b.sessions.list()).map((s) => s.sessionId)).toEqual(['s1']);
    await until(() => changes.some((ids) => ids?.length === 1 && ids[0] === 's1'));
  });

  it('deliveries: a follower sends through the leader; repeated with its id, it is one delivery', async () => {
    const { tab, device } = world();
    const phoneRuns = counter();
    await device(phoneRuns.listen);
    await tab();
    const b = await tab();
    const sent = await b.deliveries.send({
      kind: 'open-url',
      payload: { url: 'https://a.example' },
    });
    expect(sent.kind).toBe('open-url');
    await until(() => phoneRuns.runs(sent.id) === 1);
    const again = await b.deliveries.send({ id: sent.id, kind: 'open-url' });
    expect(again.id).toBe(sent.id);
    expect((await b.deliveries.status(sent.id)).acked).toEqual(['s2']);
    await expect(b.deliveries.send({ kind: '' })).rejects.toMatchObject({ kind: 'invalid' });
    expect(phoneRuns.runs(sent.id)).toBe(1);
  });

  it('a delivery runs once per session: in the leader when it listens, else in a follower', async () => {
    const { tab, device } = world();
    const aRuns = counter();
    const bRuns = counter();
    const a = await tab();
    const b = await tab(bRuns.listen);
    const phone = await device();
    // Only the follower listens: it runs there.
    const first = await phone.deliveries.send({ kind: 'note', target: toSessions(['s1']) });
    await until(() => bRuns.runs(first.id) === 1);
    await until(async () => (await phone.deliveries.status(first.id)).complete, 5000);
    // Both listen: the leader runs it, the follower does not.
    a.on('delivery', aRuns.listen);
    const second = await phone.deliveries.send({ kind: 'note', target: toSessions(['s1']) });
    await until(() => aRuns.runs(second.id) === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bRuns.runs(second.id)).toBe(0);
    expect(aRuns.runs(first.id)).toBe(0);
    expect(bRuns.runs(first.id)).toBe(1);
    expect(b.tabRole).toBe('follower');
  });

  it('kinds: each tab gets the deliveries of the kinds it listens for, once; one nobody listens for waits', async () => {
    const { tab, device } = world();
    const chats = counter();
    const urls = counter();
    const later = counter();
    const a = await tab();
    a.on('delivery', chats.listen, { kind: 'chat' });
    const b = await tab();
    b.on('delivery', urls.listen, { kind: 'open-url' });
    const phone = await device();
    const to = toSessions(['s1']);
    const url = await phone.deliveries.send({ kind: 'open-url', target: to });
    const chat = await phone.deliveries.send({ kind: 'chat', target: to });
    const note = await phone.deliveries.send({ kind: 'note', target: to });
    await until(() => urls.runs(url.id) === 1 && chats.runs(chat.id) === 1);
    await until(async () => (await phone.deliveries.status(url.id)).complete, 5000);
    await until(async () => (await phone.deliveries.status(chat.id)).complete, 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([
      chats.runs(url.id),
      urls.runs(chat.id),
      chats.runs(note.id),
      urls.runs(note.id),
    ]).toEqual([0, 0, 0, 0]);
    // No tab listens for 'note': it is not acknowledged until a follower starts to.
    expect((await phone.deliveries.status(note.id)).acked).toEqual([]);
    b.on('delivery', later.listen, { kind: 'note' });
    await until(() => later.runs(note.id) === 1, 5000);
    await until(async () => (await phone.deliveries.status(note.id)).complete, 5000);
    expect([
      later.runs(url.id),
      later.runs(chat.id),
      urls.runs(url.id),
      chats.runs(chat.id),
    ]).toEqual([0, 0, 1, 1]);
    expect(b.tabRole).toBe('follower');
  });

  it('the leader closes while a follower runs a delivery: no other tab runs it again', async () => {
    const { tab, device } = world();
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs: string[] = [];
    const a = await tab();
    const c = await tab(); // next in line for the lock
    const b = await tab(async ({ delivery }) => {
      runs.push(delivery.id);
      await gate;
    });
    const phone = await device();
    const sent = await phone.deliveries.send({ kind: 'note', target: toSessions(['s1']) });
    await until(() => runs.length === 1);
    c.on('delivery', ({ delivery }) => {
      runs.push(`c:${delivery.id}`);
    });
    await a.stop(); // c leads while b's listener runs
    await until(() => c.tabRole === 'leader');
    await c.syncNow();
    await new Promise((resolve) => setTimeout(resolve, 300)); // c's inbox has listed it
    release();
    await until(async () => (await phone.deliveries.status(sent.id)).complete, 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runs).toEqual([sent.id]);
    expect(b.tabRole).toBe('follower');
  });

  it('a follower ran a delivery but its answer was lost: the next leader finds it handled', async () => {
    const Real = globalThis.BroadcastChannel;
    class Lossy extends Real {
      override postMessage(message: unknown): void {
        if ((message as { t?: string }).t === 'delivered') return;
        super.postMessage(message);
      }
    }
    vi.stubGlobal('BroadcastChannel', Lossy);
    const { tab, device } = world();
    const runs: string[] = [];
    const a = await tab();
    const c = await tab();
    await tab(({ delivery }) => {
      runs.push(delivery.id);
    });
    const phone = await device();
    const sent = await phone.deliveries.send({ kind: 'note', target: toSessions(['s1']) });
    await until(() => runs.length === 1);
    c.on('delivery', ({ delivery }) => {
      runs.push(`c:${delivery.id}`);
    });
    await a.stop();
    await until(() => c.tabRole === 'leader');
    await until(async () => (await phone.deliveries.status(sent.id)).complete, 5000);
    expect(runs).toEqual([sent.id]);
  });

  it('a follower closes in the middle of a delivery: it is offered again, to another tab, once', async () => {
    const { tab, device } = world();
    const hung: string[] = [];
    const cRuns = counter();
    await tab();
    const b = await tab(({ delivery }) => {
      hung.push(delivery.id);
      return new Promise<void>(() => {}); // never finishes: the tab closes first
    });
    const phone = await device();
    const sent = await phone.deliveries.send({ kind: 'note', target: toSessions(['s1']) });
    await until(() => hung.length === 1);
    const c = await tab(cRuns.listen);
    await b.stop();
    await until(() => cRuns.runs(sent.id) === 1, 5000);
    await until(async () => (await phone.deliveries.status(sent.id)).complete, 5000);
    expect(hung).toEqual([sent.id]);
    expect(c.tabRole).toBe('follower');
  });

  it('files: one from another device arrives once, every tab shows the download; a follower sends one', async () => {
    const { tab, device } = world();
    const received: Delivery[] = [];
    const progress: TransferProgress[] = [];
    const a = await tab();
    const b = await tab(({ delivery }) => {
      received.push(delivery);
    });
    b.on('transfer', (p) => progress.push(p));
    const phoneGot: Delivery[] = [];
    const phone = await device(({ delivery }) => {
      phoneGot.push(delivery);
    });

    const photo = bytes(4500);
    const { delivery } = await phone.assets.send(photo, { name: 'photo.jpg' });
    await until(() => received.length === 1);
    expect(received[0]?.kind).toBe(ASSET_DELIVERY_KIND);
    expect(await (await b.assets.get(sha256Hex(photo)))?.bytes()).toEqual(photo);
    const download = (client: SyncClient) =>
      client.assets.transfers().find((t) => t.id === delivery.id && t.direction === 'download');
    expect(download(a)).toMatchObject({ state: 'completed', bytesDone: 4500, totalBytes: 4500 });
    await until(() => download(b)?.state === 'completed');
    // The follower heard the progress as it moved (a chunk at a time), not only the end.
    const moves = progress.filter((p) => p.id === delivery.id).map((p) => p.bytesDone);
    expect(moves.length).toBeGreaterThan(2);
    expect(moves.at(-1)).toBe(4500);
    expect(b.assets.transfers()).toBe(b.assets.transfers()); // a stable array

    const doc = bytes(2500, 9);
    const sent = await b.assets.send(new Blob([doc as Uint8Array<ArrayBuffer>]), {
      name: 'doc.pdf',
    });
    expect(sent.hash).toBe(sha256Hex(doc));
    await until(() => phoneGot.some((d) => d.id === sent.delivery.id));
    expect(phoneGot.filter((d) => d.kind === ASSET_DELIVERY_KIND)).toHaveLength(1);
    await until(
      () =>
        b.assets.transfers().find((t) => t.id === sent.delivery.id)?.state === 'completed' &&
        b.assets.transfers().find((t) => t.id === sent.delivery.id)?.direction === 'upload',
    );
    expect(received).toHaveLength(1);
  });
});
