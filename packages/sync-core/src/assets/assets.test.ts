import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import type { Delivery } from '../protocol/types.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { notFound } from '../testing/memory-sessions.js';
import type { MemoryTransport } from '../testing/memory-transport.js';
import { type AssetStore, memoryAssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import type { TransferProgress } from './progress.js';
import { sha256Hex } from './sha256.js';

let seed = 7000;
const CHUNK = 1000;

function bytes(length: number, salt = 1): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 13 + salt) & 0xff);
}

function world(options: { members?: Record<string, string[]> } = {}) {
  let now = 1_700_000_000_000;
  const server = createMemoryServer({
    environment: { now: () => now },
    authorizeScope: (userId, scope) =>
      scope === `user:${userId}` || (options.members?.[scope]?.includes(userId) ?? false),
    listScopeMembers: (scope) => options.members?.[scope] ?? [],
  });
  const clients: SyncClient[] = [];
  return {
    server,
    advance(ms: number) {
      now += ms;
    },
    async device(
      userId: string,
      sessionId: string,
      extra: { storage?: StorageAdapter; store?: AssetStore; transport?: MemoryTransport } = {},
    ) {
      const storage = extra.storage ?? memoryStorage();
      const store = extra.store ?? memoryAssetStore();
      const transport = extra.transport ?? server.connect({ userId, sessionId });
      const received: Delivery[] = [];
      const progress: TransferProgress[] = [];
      const client = createSyncClient({
        transport,
        storage,
        assetStore: store,
        assetChunkBytes: CHUNK,
        environment: testEnvironment({ seed: seed++ }),
        targeting: sessionTargeting(),
      });
      client.on('delivery', ({ delivery }) => {
        received.push(delivery);
      });
      client.on('transfer', (p) => progress.push(p));
      clients.push(client);
      await client.start();
      await settle(10);
      return { client, storage, store, transport, received, progress };
    },
    async stopAll() {
      for (const client of clients) await client.stop();
    },
  };
}

describe('story 1: workspace assets to every device', () => {
  it('reaches B and C once each (B resuming after a reload mid-download), never A or another user; the blob goes after the acks', async () => {
    const w = world();
    const image = bytes(5500);
    const hash = sha256Hex(image);
    const d = await w.device('u1', 'sD');
    await d.client.stop();
    w.advance(25 * 3_600_000); // D: a tab abandoned a day ago
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const c = await w.device('u1', 'sC');
    const x = await w.device('u2', 'sX');
    // B's network dies after two chunks of its download.
    let served = 0;
    const download = b.transport.assets.download.bind(b.transport.assets);
    b.transport.assets.download = (req, signal) => {
      served++;
      if (served > 2) return new Promise(() => {}); // hangs: the page is reloaded meanwhile
      return download(req, signal);
    };
    const sent = await a.client.assets.send(image, { name: 'product.png', mimeType: 'image/png' });
    expect(sent.hash).toBe(hash);
    await settle(30);
    expect(c.received.map((r) => r.assetHash)).toEqual([hash]);
    expect(await (await c.client.assets.get(hash))?.bytes()).toEqual(image);
    expect(b.received).toEqual([]);
    expect(await b.store.partialSize(`download-${hash}`)).toBe(2 * CHUNK);
    // B reloads: same storage and asset store, same session.
    await b.client.stop();
    const b2 = await w.device('u1', 'sB', { storage: b.storage, store: b.store });
    await settle(30);
    expect(b2.received.map((r) => r.id)).toEqual([sent.delivery.id]);
    const resumed = b2.progress.filter((p) => p.direction === 'download');
    expect(resumed.find((p) => p.state === 'in_progress')?.bytesDone).toBe(2 * CHUNK); // continued
    expect(resumed.at(-1)).toMatchObject({ state: 'completed', bytesDone: 5500 });
    expect(await (await b2.client.assets.get(hash))?.bytes()).toEqual(image);
    expect(a.received).toEqual([]);
    expect(x.received).toEqual([]);
    expect(await a.client.deliveries.status(sent.delivery.id)).toMatchObject({ complete: true });
    expect(w.server.sessionRoutes.assets.has(hash)).toBe(false);
    expect(a.progress.at(-1)).toMatchObject({ direction: 'upload', state: 'completed' });
    await w.stopAll();
  });

  it('a delivery nobody acknowledges expires at its TTL and its blob is deleted', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    await b.client.stop();
    const file = bytes(300);
    const sent = await a.client.assets.send(file, { ttl: 3600 });
    expect(w.server.sessionRoutes.assets.has(sent.hash)).toBe(true);
    w.advance(3_600_001);
    w.server.sweep();
    expect(w.server.sessionRoutes.assets.has(sent.hash)).toBe(false);
    expect(await a.client.deliveries.status(sent.delivery.id)).toMatchObject({ expired: true });
    await w.stopAll();
  });

  it('a corrupted download is detected and fetched again; persistent corruption fails clearly', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const failures: string[] = [];
    b.client.on('deliveryFailed', (error) => failures.push(`${error.code}: ${error.message}`));
    let corruptNext = 1;
    const download = b.transport.assets.download.bind(b.transport.assets);
    b.transport.assets.download = async (req, signal) => {
      const got = await download(req, signal);
      if (corruptNext > 0 && req.start === 0) {
        corruptNext--;
        got[0] = (got[0] as number) ^ 0xff;
      }
      return got;
    };
    const file = bytes(2500, 7);
    const sent = await a.client.assets.send(file);
    await settle(30);
    expect(b.received.map((r) => r.id)).toEqual([sent.delivery.id]);
    expect(await (await b.client.assets.get(sent.hash))?.bytes()).toEqual(file);
    expect(failures).toEqual([]);
    // Now every copy fails to verify.
    corruptNext = 100;
    const other = await a.client.assets.send(bytes(2500, 9));
    await settle(40);
    expect(b.received.map((r) => r.id)).toEqual([sent.delivery.id]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^hash_mismatch: .*did not match its SHA-256 in 3 attempts/);
    expect(await b.client.assets.get(other.hash)).toBeUndefined();
    await w.stopAll();
  });
});

describe('story 2: owner to member file transfer, on request', () => {
  it('waits while the owner is offline, then arrives with monotonic progress on both sides', async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const file = bytes(4200, 3);
    const hash = sha256Hex(file);
    // The owner's device has a session but its client is not running.
    const ownerStorage = memoryStorage();
    const ownerStore = memoryAssetStore();
    const first = await w.device('owner', 'sO', { storage: ownerStorage, store: ownerStore });
    await first.client.assets.add(file, { name: 'plan.pdf', mimeType: 'application/pdf' });
    await first.client.stop();
    const member = await w.device('member', 'sM');
    const transfer = await member.client.assets.request(hash, {
      from: 'owner',
      scope: 'workspace:1',
      name: 'plan.pdf',
      size: file.length,
    });
    expect(transfer.state).toBe('pending');
    await settle(30);
    expect(member.client.assets.transfers()).toMatchObject([{ id: transfer.id, state: 'pending' }]);
    // The owner comes online: the request reaches it, it uploads, the member downloads.
    const owner = await w.device('owner', 'sO', { storage: ownerStorage, store: ownerStore });
    await settle(60);
    const mine = member.progress.filter((p) => p.id === transfer.id);
    expect(mine.at(-1)).toMatchObject({ state: 'completed', bytesDone: 4200, totalBytes: 4200 });
    const done = mine.map((p) => p.bytesDone);
    expect(done).toEqual([...done].sort((x, y) => x - y));
    const uploads = owner.progress.filter((p) => p.id === transfer.id);
    expect(uploads.at(-1)).toMatchObject({ direction: 'upload', state: 'completed' });
    expect(await (await member.client.assets.get(hash))?.bytes()).toEqual(file);
    const [final] = await member.transport.transfers.list();
    expect(final).toMatchObject({ state: 'completed', downloadedBytes: 4200 });
    expect(owner.received).toEqual([]); // the request is served inside the client
    await w.stopAll();
  });

  it('the owner serves a file outside the store through provide(); wrong bytes are refused', async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const file = bytes(1500, 5);
    const hash = sha256Hex(file);
    const owner = await w.device('owner', 'sO');
    owner.client.assets.provide((wanted) =>
      wanted === hash
        ? new ReadableStream({
            start(controller) {
              controller.enqueue(file.slice(0, 700));
              controller.enqueue(file.slice(700));
              controller.close();
            },
          })
        : undefined,
    );
    const member = await w.device('member', 'sM');
    const transfer = await member.client.assets.request(hash, {
      from: 'owner',
      scope: 'workspace:1',
    });
    await settle(60);
    expect(member.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
      state: 'completed',
    });
    expect(await (await member.client.assets.get(hash))?.bytes()).toEqual(file);
    // A member of no shared scope cannot ask.
    await expect(
      member.client.assets.request(hash, { from: 'owner', scope: 'workspace:2' }),
    ).rejects.toMatchObject({ status: 403 });
    await w.stopAll();
  });

  it('a provider that keeps giving wrong bytes is retried, then the transfer is failed on both sides and not offered again', async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const file = bytes(1500, 5);
    const hash = sha256Hex(file);
    const owner = await w.device('owner', 'sO');
    // The wrong bytes are those of another file the owner holds: that one stays stored.
    const other = await owner.client.assets.add(bytes(1500, 6));
    let calls = 0;
    owner.client.assets.provide(() => {
      calls++;
      return bytes(1500, 6); // not the bytes of `hash`
    });
    const ownerFailures: string[] = [];
    owner.client.on('deliveryFailed', (error) => ownerFailures.push(error.message));
    const member = await w.device('member', 'sM');
    const transfer = await member.client.assets.request(hash, {
      from: 'owner',
      scope: 'workspace:1',
      size: file.length,
    });
    await settle(60);
    expect(calls).toBe(3);
    const error = /^The provider gave other bytes than asset [0-9a-f]{64} in 3 attempts/;
    const mine = member.progress.filter((p) => p.id === transfer.id);
    expect(mine.at(-1)).toMatchObject({ state: 'failed', error: expect.stringMatching(error) });
    const done = mine.map((p) => p.bytesDone);
    expect(done).toEqual([...done].sort((x, y) => x - y));
    expect(member.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(error),
    });
    expect(owner.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
      direction: 'upload',
      state: 'failed',
      error: expect.stringMatching(error),
    });
    const [final] = await member.transport.transfers.list();
    expect(final).toMatchObject({ state: 'failed', error: expect.stringMatching(error) });
    // Final: the request was acknowledged, so a catch-up does not offer it again.
    await owner.client.stop();
    await owner.client.start();
    await settle(40);
    expect(calls).toBe(3);
    expect(ownerFailures).toEqual([]);
    expect(await owner.client.assets.get(hash)).toBeUndefined();
    expect(await (await owner.client.assets.get(other.hash))?.bytes()).toEqual(bytes(1500, 6));
    await w.stopAll();
  });

  it("a provider that has nothing (undefined) or throws leaves the request to the owner's other sessions", async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const file = bytes(1500, 5);
    const hash = sha256Hex(file);
    const laptop = await w.device('owner', 'sL');
    let asked = 0;
    laptop.client.assets.provide(() => {
      asked++;
      if (asked === 1) return undefined;
      throw new Error('disk unplugged');
    });
    const failures: string[] = [];
    laptop.client.on('deliveryFailed', (error) => failures.push(`${error.kind}: ${error.message}`));
    const member = await w.device('member', 'sM');
    const transfer = await member.client.assets.request(hash, {
      from: 'owner',
      scope: 'workspace:1',
    });
    await settle(40);
    expect(asked).toBe(1);
    // Another catch-up asks again; the provider's error is reported, the transfer not failed.
    await laptop.client.stop();
    await laptop.client.start();
    await settle(40);
    expect(asked).toBe(2);
    expect(failures).toEqual(['app: disk unplugged']);
    expect(member.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
      state: 'pending',
    });
    // The owner's desktop holds the file: it serves the request.
    const desktop = await w.device('owner', 'sD');
    await desktop.client.assets.add(file);
    await desktop.client.stop();
    await desktop.client.start();
    await settle(60);
    expect(member.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
      state: 'completed',
    });
    expect(await (await member.client.assets.get(hash))?.bytes()).toEqual(file);
    await w.stopAll();
  });
});

describe('a transfer that is gone (404 not_found) is final for that transfer', () => {
  it('the holder whose progress report finds the transfer gone settles its upload failed, once, and drops the request', async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const file = bytes(2100, 7);
    const hash = sha256Hex(file);
    const ownerStorage = memoryStorage();
    const ownerStore = memoryAssetStore();
    const first = await w.device('owner', 'sO', { storage: ownerStorage, store: ownerStore });
    await first.client.assets.add(file, { name: 'plan.pdf' });
    await first.client.stop();
    const member = await w.device('member', 'sM');
    const transfer = await member.client.assets.request(hash, {
      from: 'owner',
      scope: 'workspace:1',
    });
    // The owner's device comes online; the server no longer knows the transfer for it.
    const transport = w.server.connect({ userId: 'owner', sessionId: 'sO' });
    let reports = 0;
    transport.transfers.progress = () => {
      reports++;
      return Promise.reject(notFound('transfer'));
    };
    const failures: unknown[] = [];
    const owner = await w.device('owner', 'sO', {
      storage: ownerStorage,
      store: ownerStore,
      transport,
    });
    owner.client.on('deliveryFailed', (error) => failures.push(error));
    await settle(60);
    const uploads = owner.progress.filter((p) => p.id === transfer.id);
    expect(uploads.at(-1)).toMatchObject({ direction: 'upload', state: 'failed' });
    expect(uploads.at(-1)?.error).toMatch(/transfer .*gone/i);
    expect(reports).toBe(1);
    expect(failures).toEqual([]);
    // The request was dropped (acknowledged): a catch-up does not serve it again.
    expect(await transport.deliveries.pending()).toEqual([]);
    await w.stopAll();
  });
});

describe('bad input', () => {
  /** What `promise` settled with after the client's timers had their turn, or `undefined`. */
  async function outcome(promise: Promise<unknown>): Promise<unknown> {
    let result: unknown;
    promise.then(
      (value) => (result = value),
      (error: unknown) => (result = error),
    );
    await settle(30);
    return result;
  }

  it('a request without a sha256, a holder or a scope is refused at once as invalid', async () => {
    const w = world({ members: { 'workspace:1': ['owner', 'member'] } });
    const member = await w.device('member', 'sM');
    const hash = sha256Hex(bytes(10));
    const request = member.client.assets.request.bind(member.client.assets);
    for (const attempt of [
      () => request('not-a-hash', { from: 'owner', scope: 'workspace:1' }),
      () => request(hash.toUpperCase(), { from: 'owner', scope: 'workspace:1' }),
      () => (request as (hash: string) => Promise<unknown>)(hash),
      () => request(hash, { from: 'owner' } as never),
      () => request(hash, { scope: 'workspace:1' } as never),
    ]) {
      expect(await outcome(attempt())).toMatchObject({ name: 'SyncError', kind: 'invalid' });
    }
    expect(member.client.assets.transfers()).toEqual([]);
    await w.stopAll();
  });

  it('a source that is not bytes, a Blob or a stream is refused as invalid', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    for (const source of ['hello', 42, null, { size: 3 }]) {
      expect(await outcome(a.client.assets.send(source as never, { name: 'f' }))).toMatchObject({
        name: 'SyncError',
        kind: 'invalid',
      });
      expect(await outcome(a.client.assets.add(source as never))).toMatchObject({
        name: 'SyncError',
        kind: 'invalid',
      });
    }
    await w.stopAll();
  });
});

describe('fileAssetStore', () => {
  it('appends at the end only, survives a new instance, reads ranges and commits atomically', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'syncline-assets-'));
    try {
      const store = fileAssetStore({ directory });
      const data = bytes(3000);
      await store.append('k1', 0, data.subarray(0, 1000));
      await expect(store.append('k1', 500, data.subarray(0, 10))).rejects.toMatchObject({
        kind: 'storage',
        code: 'offset_mismatch',
      });
      const reopened = fileAssetStore({ directory });
      expect(await reopened.partialSize('k1')).toBe(1000);
      await reopened.append('k1', 1000, data.subarray(1000));
      expect(await reopened.readPartial('k1', 990, 1010)).toEqual(data.subarray(990, 1010));
      const hash = sha256Hex(data);
      await reopened.commit('k1', hash, { size: 3000, name: 'a.bin' });
      expect(await reopened.partialSize('k1')).toBe(0);
      expect(await store.stat(hash)).toEqual({ size: 3000, name: 'a.bin' });
      expect(await store.read(hash, 2990, 5000)).toEqual(data.subarray(2990));
      await store.delete(hash);
      expect(await store.stat(hash)).toBeUndefined();
      await expect(store.partialSize('../escape')).rejects.toMatchObject({ kind: 'invalid' });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
