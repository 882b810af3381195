/**
 * Session targeting end to end: `createSyncClient` + `restTransport` against the real server
 * over loopback (the server's targeting fixture: dev auth, a file BlobStore, an injected server
 * clock, a membership table). The three stories of issue 12, as apps would write them. Run on
 * PGlite and PostgreSQL by the two `targeting-client.*.test.ts` files.
 */
import {
  createSessionSource,
  createSyncClient,
  type Delivery,
  memoryAssetStore,
  memoryStorage,
  type StorageAdapter,
  type SyncClient,
  SyncError,
  type TransferProgress,
} from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import { expect, it, vi } from 'vitest';
import { devToken } from '../../server/test/http-support.js';
import { asset, type TargetingFixture } from '../../server/test/targeting/fixture.js';
import { type RestTransport, restTransport } from '../src/index.js';
import { restTargeting } from '../src/targeting.js';

const EVENTUALLY = { timeout: 15_000, interval: 20 };
// Each story starts up to six clients over HTTP: generous, so a loaded CI machine passes.
const STORY_TIMEOUT_MS = 90_000;
const HOUR = 3_600_000;
const CHUNK = 64 * 1024;

interface Device {
  client: SyncClient;
  transport: RestTransport;
  storage: StorageAdapter;
  store: ReturnType<typeof memoryAssetStore>;
  received: Delivery[];
  progress: TransferProgress[];
  sessionId: string;
}

/**
 * A dev sign-in, retried on a reset socket: a raw `fetch` has no retryer, and on a loaded
 * machine a keep-alive socket the server is closing may be reused (ECONNRESET).
 */
async function signInRetried(url: string, userId: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await devToken(url, userId);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Defines the stories against the fixture's server. */
export function targetingClientStories(fixture: () => TargetingFixture): void {
  const clients: SyncClient[] = [];

  async function device(
    userId: string,
    reuse: {
      storage?: StorageAdapter;
      store?: Device['store'];
      sessionId?: string;
      token?: string;
      /** Sees the transport before the client starts with it. */
      onTransport?: (transport: RestTransport) => void;
    } = {},
  ): Promise<Device> {
    const f = fixture();
    const signed =
      reuse.sessionId !== undefined && reuse.token !== undefined
        ? { sessionId: reuse.sessionId, token: reuse.token }
        : await signInRetried(f.url, userId);
    const transport = restTransport({
      baseUrl: f.url,
      getToken: () => signed.token,
      session: createSessionSource({ userId, sessionId: signed.sessionId }),
      targeting: restTargeting(),
    });
    reuse.onTransport?.(transport);
    const storage = reuse.storage ?? memoryStorage();
    const store = reuse.store ?? memoryAssetStore();
    const client = createSyncClient({
      transport,
      storage,
      assetStore: store,
      assetChunkBytes: CHUNK,
      targeting: sessionTargeting(),
      label: `${userId} device`,
      platform: 'node',
    });
    const received: Delivery[] = [];
    const progress: TransferProgress[] = [];
    client.on('delivery', ({ delivery }) => {
      received.push(delivery);
    });
    client.on('transfer', (p) => progress.push(p));
    clients.push(client);
    await client.start();
    await vi.waitFor(() => expect(client.sessions.current?.active).toBe(true), EVENTUALLY);
    const dev = {
      client,
      transport,
      storage,
      store,
      received,
      progress,
      sessionId: signed.sessionId,
    };
    tokens.set(dev, signed.token);
    return dev;
  }
  const tokens = new WeakMap<Device, string>();

  /** Waits until `to` handled exactly the delivery `id`, then reads the asset's bytes from its store. */
  async function receivedOnce(
    to: Device,
    id: string,
    sha256: string,
    bytes: Uint8Array,
  ): Promise<void> {
    await vi.waitFor(() => expect(to.received.map((r) => r.id)).toEqual([id]), EVENTUALLY);
    expect(await (await to.client.assets.get(sha256))?.bytes()).toEqual(bytes);
  }

  async function stopAll(): Promise<void> {
    for (const client of clients.splice(0)) await client.stop();
  }

  it(
    'story 1: an asset reaches B and C once each (B resumes after a reload), never A or the other user; the blob goes after the acks; stale D does not block',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const u2 = f.newUser();
      const d = await device(u1);
      await d.client.stop();
      f.clock.now += 25 * HOUR; // D: a tab abandoned a day ago
      const a = await device(u1);
      const b = await device(u1);
      const c = await device(u1);
      const x = await device(u2);
      const { bytes, sha256 } = asset(300_000, 11);
      // B's page is reloaded in the middle of its download: after two chunks' worth of bytes,
      // the stream stalls.
      const assets = b.transport.assets;
      const downloadStream = assets?.downloadStream?.bind(assets);
      if (assets === undefined || downloadStream === undefined) throw new Error('no assets');
      assets.downloadStream = async (req, signal) =>
        stallAfter(await downloadStream(req, signal), 2 * CHUNK, signal);
      const blobsBefore = await f.blobs.keys();
      const sent = await a.client.assets.send(bytes, {
        name: 'product.png',
        mimeType: 'image/png',
      });
      expect(sent.hash).toBe(sha256);
      const blob = (await f.blobs.keys()).find((key) => !blobsBefore.includes(key));
      expect(blob).toBeDefined();
      await receivedOnce(c, sent.delivery.id, sha256, bytes);
      await vi.waitFor(
        async () => expect(await b.store.partialSize(`download-${sha256}`)).toBe(2 * CHUNK),
        EVENTUALLY,
      );
      expect(b.received).toEqual([]);
      // B reloads: same storage, asset store and session.
      await b.client.stop();
      const b2 = await device(u1, {
        storage: b.storage,
        store: b.store,
        sessionId: b.sessionId,
        token: tokens.get(b) as string,
      });
      await vi.waitFor(
        () => expect(b2.received.map((r) => r.id)).toEqual([sent.delivery.id]),
        EVENTUALLY,
      );
      const resumed = b2.progress.filter((p) => p.direction === 'download');
      expect(resumed.find((p) => p.state === 'in_progress')?.bytesDone).toBe(2 * CHUNK);
      expect(await (await b2.client.assets.get(sha256))?.bytes()).toEqual(bytes);
      await vi.waitFor(
        async () =>
          expect((await a.client.deliveries.status(sent.delivery.id)).complete).toBe(true),
        EVENTUALLY,
      );
      expect(a.received).toEqual([]);
      expect(x.received).toEqual([]);
      expect(d.received).toEqual([]);
      await vi.waitFor(async () => expect(await f.blobs.keys()).not.toContain(blob), EVENTUALLY);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    "story 1: a stream's first chunks go up (by upload id) before the source has been read to its end",
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const b = await device(u1);
      const { bytes, sha256 } = asset(5 * CHUNK + 1234, 31);
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let read = 0;
      const source = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (read === 3 * CHUNK) await held;
          const end = Math.min(bytes.length, read + CHUNK);
          controller.enqueue(bytes.slice(read, end));
          read = end;
          if (read >= bytes.length) controller.close();
        },
      });
      const assets = a.transport.assets;
      const uploadChunkById = assets?.uploadChunkById?.bind(assets);
      if (assets === undefined || uploadChunkById === undefined)
        throw new Error('no uploads by id');
      const taken: number[] = [];
      assets.uploadChunkById = async (req, signal) => {
        await uploadChunkById(req, signal);
        taken.push(req.offset);
      };
      const sending = a.client.assets.send(source, { name: 'stream.bin' });
      try {
        await vi.waitFor(() => expect(taken).toContain(0), EVENTUALLY);
        expect(read).toBeLessThan(bytes.length);
      } finally {
        release();
      }
      const sent = await sending;
      expect(sent.hash).toBe(sha256);
      expect(sent.size).toBe(bytes.length);
      await receivedOnce(b, sent.delivery.id, sha256, bytes);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 1: streams whose size is a whole number of chunks, or empty, name their hash in an empty last request',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const b = await device(u1);
      const assets = a.transport.assets;
      const uploadChunkById = assets?.uploadChunkById?.bind(assets);
      if (assets === undefined || uploadChunkById === undefined)
        throw new Error('no uploads by id');
      const requests: Array<{ offset: number; length: number; named: boolean }> = [];
      assets.uploadChunkById = async (req, signal) => {
        requests.push({ offset: req.offset, length: req.chunk.length, named: !!req.sha256 });
        await uploadChunkById(req, signal);
      };
      const whole = asset(2 * CHUNK, 34);
      // The stream ends only once both chunks went up: the hash then comes alone.
      let pulls = 0;
      const twoChunks = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (pulls++ === 0) return controller.enqueue(whole.bytes);
          await vi.waitFor(() => expect(requests).toHaveLength(2), EVENTUALLY);
          controller.close();
        },
      });
      const sent = await a.client.assets.send(twoChunks);
      expect(sent.hash).toBe(whole.sha256);
      expect(requests.at(-1)).toEqual({ offset: 2 * CHUNK, length: 0, named: true });
      const empty = asset(0, 35);
      const none = await a.client.assets.send(
        new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }),
      );
      expect(none.hash).toBe(empty.sha256);
      expect(requests.at(-1)).toEqual({ offset: 0, length: 0, named: true });
      // A stream that fails half-way fails the send (nothing delivered), it does not hang.
      let failingPulls = 0;
      const failing = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (failingPulls++ === 0) controller.enqueue(asset(2 * CHUNK, 36).bytes);
          else controller.error(new Error('the disk went away'));
        },
      });
      await expect(a.client.assets.send(failing)).rejects.toThrow('the disk went away');
      await vi.waitFor(() => expect(b.received).toHaveLength(2), EVENTUALLY);
      expect(await (await b.client.assets.get(whole.sha256))?.bytes()).toEqual(whole.bytes);
      expect((await b.client.assets.get(empty.sha256))?.size).toBe(0);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 1: an upload by id whose chunk failed asks the server its offset and continues there',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const b = await device(u1);
      const { bytes, sha256 } = asset(4 * CHUNK + 99, 32);
      const assets = a.transport.assets;
      const uploadChunkById = assets?.uploadChunkById?.bind(assets);
      const uploadedOffsetById = assets?.uploadedOffsetById?.bind(assets);
      if (assets === undefined || uploadChunkById === undefined || !uploadedOffsetById) {
        throw new Error('no uploads by id');
      }
      let failed = 0;
      assets.uploadChunkById = async (req, signal) => {
        if (req.offset === 2 * CHUNK && failed === 0) {
          failed++;
          throw new SyncError('network', 'the connection broke');
        }
        await uploadChunkById(req, signal);
      };
      const asked: number[] = [];
      assets.uploadedOffsetById = async (uploadId, signal) => {
        const offset = await uploadedOffsetById(uploadId, signal);
        asked.push(offset);
        return offset;
      };
      const blob = new Blob([bytes]);
      const sent = await a.client.assets.send(blob, { name: 'blob.bin' });
      expect(sent.hash).toBe(sha256);
      expect(failed).toBe(1);
      expect(asked).toEqual([2 * CHUNK]);
      await receivedOnce(b, sent.delivery.id, sha256, bytes);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 1: a send by upload id cut short by a reload continues the same upload from its offset',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const b = await device(u1);
      const { bytes, sha256 } = asset(4 * CHUNK + 7, 33);
      const assets = a.transport.assets;
      const uploadChunkById = assets?.uploadChunkById?.bind(assets);
      if (assets === undefined || uploadChunkById === undefined)
        throw new Error('no uploads by id');
      // Chunks from the third on never leave: the page is reloaded meanwhile.
      let took = 0;
      assets.uploadChunkById = async (req, signal) => {
        if (req.offset < 2 * CHUNK) {
          await uploadChunkById(req, signal);
          took = Math.max(took, req.offset + req.chunk.length);
          return;
        }
        await new Promise((_resolve, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason));
        });
      };
      const sending = a.client.assets.send(new Blob([bytes]), { name: 'cut.bin' });
      sending.catch(() => undefined);
      await vi.waitFor(async () => expect(await a.store.stat(sha256)).toBeDefined(), EVENTUALLY);
      await vi.waitFor(
        async () => expect((await a.storage.list('device', 'asset-send/')).length).toBe(1),
        EVENTUALLY,
      );
      await vi.waitFor(() => expect(took).toBe(2 * CHUNK), EVENTUALLY);
      await a.client.stop();
      await expect(sending).rejects.toThrow();
      const asked: number[] = [];
      const a2 = await device(u1, {
        storage: a.storage,
        store: a.store,
        sessionId: a.sessionId,
        token: tokens.get(a) as string,
        onTransport(transport) {
          const parts = transport.assets;
          const offsetById = parts?.uploadedOffsetById?.bind(parts);
          if (parts === undefined || offsetById === undefined) return;
          parts.uploadedOffsetById = async (uploadId, signal) => {
            const offset = await offsetById(uploadId, signal);
            asked.push(offset);
            return offset;
          };
        },
      });
      expect(a2.received).toEqual([]);
      await vi.waitFor(() => expect(b.received).toHaveLength(1), EVENTUALLY);
      expect(asked).toEqual([2 * CHUNK]);
      expect(b.received[0]?.assetHash).toBe(sha256);
      expect(await (await b.client.assets.get(sha256))?.bytes()).toEqual(bytes);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 1: a corrupted download is detected and fetched again',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const b = await device(u1);
      const assets = b.transport.assets;
      if (assets === undefined) throw new Error('no assets');
      const downloadStream = assets.downloadStream?.bind(assets);
      if (downloadStream === undefined) throw new Error('no streamed download');
      let corrupted = 0;
      assets.downloadStream = async (req, signal) => {
        const body = await downloadStream(req, signal);
        if (corrupted > 0 || req.start !== 0) return body;
        corrupted++;
        let first = true;
        return body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              const out = first ? chunk.slice() : chunk;
              if (first) out[10] = (out[10] as number) ^ 0xff;
              first = false;
              controller.enqueue(out);
            },
          }),
        );
      };
      const { bytes, sha256 } = asset(100_000, 12);
      const sent = await a.client.assets.send(bytes);
      await vi.waitFor(
        () => expect(b.received.map((r) => r.id)).toEqual([sent.delivery.id]),
        EVENTUALLY,
      );
      expect(corrupted).toBe(1);
      expect(await (await b.client.assets.get(sha256))?.bytes()).toEqual(bytes);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'a delivery whose blob is gone from the server fails its download at once (410), is not handled, and is not fetched in a loop',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const offline = await f.signIn(u1); // B's session: a target, its client not started yet
      const { bytes } = asset(200_000, 13);
      const before = await f.blobs.keys();
      const sent = await a.client.assets.send(bytes);
      const blob = (await f.blobs.keys()).find((key) => !before.includes(key));
      expect(blob).toBeDefined();
      expect(sent.delivery.targetSessionIds).toEqual([offline.sessionId]);
      await f.blobs.delete(blob as string);
      const downloads = countDownloads();
      const b = await device(u1, {
        sessionId: offline.sessionId,
        token: offline.token,
        onTransport: downloads.onTransport,
      });
      await vi.waitFor(
        () =>
          expect(b.progress.filter((p) => p.direction === 'download').at(-1)?.state).toBe('failed'),
        EVENTUALLY,
      );
      const failed = b.progress.filter((p) => p.direction === 'download').at(-1);
      expect(failed?.error).toContain('the bytes of this asset are no longer on the server');
      expect(downloads.count()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(downloads.count()).toBe(1);
      expect(b.received).toEqual([]);
      expect((await a.client.deliveries.status(sent.delivery.id)).acked).toEqual([]);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'a delivery that expires between its listing and its download fails at once (404 not_found), is not handled, not fetched in a loop, and the status is not misconfigured',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const offline = await f.signIn(u1); // B's session: a target, its client not started yet
      const { bytes } = asset(200_000, 17);
      const sent = await a.client.assets.send(bytes, { ttl: 3600 });
      expect(sent.delivery.targetSessionIds).toEqual([offline.sessionId]);
      const downloads = countDownloads((reads) => {
        // B listed the delivery; it expires (server clock) before B's GET of its asset.
        if (reads === 1) f.clock.now += 2 * HOUR;
      });
      const b = await device(u1, {
        sessionId: offline.sessionId,
        token: offline.token,
        onTransport: downloads.onTransport,
      });
      await vi.waitFor(
        () =>
          expect(b.progress.filter((p) => p.direction === 'download').at(-1)?.state).toBe('failed'),
        EVENTUALLY,
      );
      expect(downloads.count()).toBe(1);
      // Backoff waits would be up to 1 s, then 2 s: a loop shows within these 3 s.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(downloads.count()).toBe(1);
      expect(b.received).toEqual([]);
      expect(b.client.status.error?.kind).not.toBe('misconfigured');
      expect(b.client.status.state).not.toBe('error');
      expect(await a.client.deliveries.status(sent.delivery.id)).toMatchObject({
        expired: true,
        acked: [],
      });
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'a wrong baseUrl still reports misconfigured, for the targeting calls by id too',
    async () => {
      const f = fixture();
      const userId = f.newUser();
      const signed = await signInRetried(f.url, userId);
      const transport = restTransport({
        baseUrl: `${f.url}/wrong`,
        getToken: () => signed.token,
        session: createSessionSource({ userId, sessionId: signed.sessionId }),
        targeting: restTargeting(),
      });
      const client = createSyncClient({
        transport,
        storage: memoryStorage(),
        assetStore: memoryAssetStore(),
        targeting: sessionTargeting(),
      });
      client.on('delivery', () => {});
      try {
        await client.start();
        await vi.waitFor(() => expect(client.status.error?.kind).toBe('misconfigured'), EVENTUALLY);
        expect(client.status.error).toMatchObject({ code: 'no_such_route', status: 404 });
        await expect(
          client.deliveries.status('018bcfe5-6800-7000-8000-000000000001'),
        ).rejects.toMatchObject({ kind: 'misconfigured', code: 'no_such_route' });
        // The calls by id too: the server's route 404 (a body, even when HEAD leaves it out).
        const id = '018bcfe5-6800-7000-8000-000000000001';
        const { sha256 } = asset(1000, 22);
        for (const call of [
          () => transport.deliveries?.ack(id),
          () => transport.assets?.probe?.(sha256),
          () => transport.assets?.downloadStream?.({ sha256, start: 0, end: 10 }),
          () => transport.transfers?.progress({ id, side: 'download', bytesDone: 0 }),
        ]) {
          await expect(call()).rejects.toMatchObject({ kind: 'misconfigured', status: 404 });
        }
      } finally {
        await client.stop();
      }
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 2: a transfer on request waits for the offline owner, then arrives with monotonic progress and a final completed',
    async () => {
      const f = fixture();
      const owner = f.newUser();
      const member = f.newUser();
      f.members.set('workspace:e2e', [owner, member]);
      const { bytes, sha256 } = asset(200_000, 13);
      const ownerStorage = memoryStorage();
      const ownerStore = memoryAssetStore();
      const first = await device(owner, { storage: ownerStorage, store: ownerStore });
      await first.client.assets.add(bytes, { name: 'plan.pdf', mimeType: 'application/pdf' });
      await first.client.stop();
      const m = await device(member);
      const transfer = await m.client.assets.request(sha256, {
        from: owner,
        scope: 'workspace:e2e',
        name: 'plan.pdf',
        size: bytes.length,
      });
      expect(transfer.state).toBe('pending');
      // The owner's device comes back (same installation, same session).
      const o = await device(owner, {
        storage: ownerStorage,
        store: ownerStore,
        sessionId: first.sessionId,
        token: tokens.get(first) as string,
      });
      await vi.waitFor(
        () =>
          expect(m.client.assets.transfers().find((p) => p.id === transfer.id)?.state).toBe(
            'completed',
          ),
        EVENTUALLY,
      );
      const mine = m.progress.filter((p) => p.id === transfer.id).map((p) => p.bytesDone);
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
      expect(mine.at(-1)).toBe(bytes.length);
      const theirs = o.progress.filter((p) => p.id === transfer.id);
      expect(theirs.at(-1)).toMatchObject({ direction: 'upload', state: 'completed' });
      expect(await (await m.client.assets.get(sha256))?.bytes()).toEqual(bytes);
      // Through waitFor: a raw call has no retryer, and a reused keep-alive socket may reset.
      await vi.waitFor(async () => {
        const [server] = (await m.transport.transfers?.list()) ?? [];
        expect(server).toMatchObject({ id: transfer.id, state: 'completed' });
      }, EVENTUALLY);
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    "story 2: a provider's wrong bytes are asked for again, then the transfer is failed on both sides and not offered again",
    async () => {
      const f = fixture();
      const owner = f.newUser();
      const member = f.newUser();
      f.members.set('workspace:e2e', [owner, member]);
      const { bytes, sha256 } = asset(200_000, 17);
      const wrong = asset(200_000, 18).bytes;
      let calls = 0;
      const provider = () => {
        calls++;
        return wrong;
      };
      const o = await device(owner);
      o.client.assets.provide(provider);
      const m = await device(member);
      const transfer = await m.client.assets.request(sha256, {
        from: owner,
        scope: 'workspace:e2e',
        size: bytes.length,
      });
      const error = /^The provider gave other bytes than asset [0-9a-f]{64} in 3 attempts/;
      await vi.waitFor(
        () =>
          expect(m.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
            state: 'failed',
            error: expect.stringMatching(error),
          }),
        EVENTUALLY,
      );
      expect(calls).toBe(3);
      const mine = m.progress.filter((p) => p.id === transfer.id);
      const done = mine.map((p) => p.bytesDone);
      expect(done).toEqual([...done].sort((x, y) => x - y));
      expect(mine.at(-1)).toMatchObject({ state: 'failed', error: expect.stringMatching(error) });
      expect(o.client.assets.transfers().find((p) => p.id === transfer.id)).toMatchObject({
        direction: 'upload',
        state: 'failed',
        error: expect.stringMatching(error),
      });
      await vi.waitFor(async () => {
        const [server] = (await m.transport.transfers?.list()) ?? [];
        expect(server).toMatchObject({ id: transfer.id, state: 'failed' });
        expect(server?.error).toMatch(error);
      }, EVENTUALLY);
      // The owner's device reloads (same session): the request was acknowledged, so the
      // catch-up does not offer it again.
      await o.client.stop();
      const again = await device(owner, {
        storage: o.storage,
        store: o.store,
        sessionId: o.sessionId,
        token: tokens.get(o) as string,
      });
      again.client.assets.provide(provider);
      await vi.waitFor(async () => {
        const pending = (await again.transport.deliveries?.pending()) ?? [];
        expect(pending.map((d) => d.kind)).toEqual([]);
      }, EVENTUALLY);
      await new Promise((resolve) => setTimeout(resolve, 300)); // its catch-up had its turn
      expect(calls).toBe(3);
      expect(await again.client.assets.get(sha256)).toBeUndefined();
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'story 3: a re-login on the same device leaves one session; sign out this device and everywhere',
    async () => {
      const f = fixture();
      const u1 = f.newUser();
      const a = await device(u1);
      const c = await device(u1);
      await c.client.stop();
      const c2 = await device(u1, { storage: c.storage }); // same installation, new login
      expect(c2.client.clientId).toBe(c.client.clientId);
      const listed = await a.client.sessions.list();
      expect(listed.map((s) => s.sessionId).sort()).toEqual([a.sessionId, c2.sessionId].sort());
      expect(listed.find((s) => s.sessionId === c2.sessionId)).toMatchObject({
        label: `${u1} device`,
        platform: 'node',
        active: true,
      });
      await a.client.sessions.revoke(c2.sessionId);
      await expect(c2.client.sessions.list()).rejects.toMatchObject({ code: 'session_revoked' });
      await a.client.sessions.revokeAll();
      await expect(a.client.sessions.list()).rejects.toMatchObject({ kind: 'auth' });
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    "an unknown id, or another user's, is rejected not_found (as on the memory server), not a misconfigured baseUrl",
    async () => {
      const f = fixture();
      const a = await device(f.newUser());
      const x = await device(f.newUser());
      const theirs = await x.client.deliveries.send({ kind: 'k' });
      const notFound = { kind: 'rejected', status: 404, code: 'not_found' };
      for (const read of [
        () => a.client.deliveries.status('018bcfe5-6800-7000-8000-000000000001'),
        () => a.client.deliveries.status(theirs.id),
        () => a.client.sessions.revoke('no-such-session'),
        () => a.client.sessions.revoke(x.sessionId),
      ]) {
        await expect(read()).rejects.toMatchObject(notFound);
      }
      // The calls the client makes by id on its own: an ack, an asset's probe and download, a
      // transfer's read and progress, an upload's probe (its 404 is "nothing held yet": 0).
      const gone = '018bcfe5-6800-7000-8000-000000000002';
      const { sha256 } = asset(1000, 21);
      const t = a.transport;
      for (const call of [
        () => t.deliveries?.ack(gone),
        () => t.deliveries?.ack(theirs.id),
        () => t.assets?.probe?.(sha256),
        () => t.assets?.download({ sha256, start: 0, end: 10 }),
        () => t.assets?.downloadStream?.({ sha256, start: 0, end: 10 }),
        () => t.transfers?.get(gone),
        () => t.transfers?.progress({ id: gone, side: 'download', bytesDone: 0 }),
      ]) {
        await expect(call()).rejects.toMatchObject(notFound);
      }
      expect(await t.assets?.uploadedOffsetById?.('no-such-upload')).toBe(0);
      // Nothing changed: X is still signed in and its delivery still there.
      expect((await x.client.sessions.list()).map((s) => s.sessionId)).toEqual([x.sessionId]);
      expect(await x.client.deliveries.status(theirs.id)).toMatchObject({ expired: false });
      await stopAll();
    },
    STORY_TIMEOUT_MS,
  );

  it(
    'stop() is prompt with targeting active: it needs no timer to fire, and the event stream closes',
    async () => {
      const f = fixture();
      const userId = f.newUser();
      const signed = await signInRetried(f.url, userId);
      // Zero-delay timers run (scheduled work); every other one is frozen. A stop() that waited
      // for a heartbeat, a catch-up poll, a backoff or an idle timer would never resolve.
      const running = new Set<unknown>();
      const frozenTimers = {
        setTimeout(callback: () => void, ms: number): unknown {
          if (ms > 0) return { frozen: ms };
          const handle = setTimeout(() => {
            running.delete(handle);
            callback();
          }, 0);
          running.add(handle);
          return handle;
        },
        clearTimeout(handle: unknown) {
          if (running.delete(handle)) clearTimeout(handle as ReturnType<typeof setTimeout>);
        },
      };
      const streamsBefore = f.server.handler.openStreams;
      const transport = restTransport({
        baseUrl: f.url,
        getToken: () => signed.token,
        session: createSessionSource({ userId, sessionId: signed.sessionId }),
        environment: frozenTimers,
        targeting: restTargeting(),
      });
      const client = createSyncClient({
        transport,
        storage: memoryStorage(),
        assetStore: memoryAssetStore(),
        environment: frozenTimers,
        targeting: sessionTargeting(),
      });
      client.on('delivery', () => {});
      await client.start();
      await vi.waitFor(() => expect(client.sessions.current?.active).toBe(true), EVENTUALLY);
      await vi.waitFor(
        () => expect(f.server.handler.openStreams).toBe(streamsBefore + 1),
        EVENTUALLY,
      );
      await client.stop();
      await vi.waitFor(() => expect(f.server.handler.openStreams).toBe(streamsBefore), EVENTUALLY);
    },
    STORY_TIMEOUT_MS,
  );
}

/**
 * Counts a device's asset downloads (`transport.assets.downloadStream` calls), for
 * `device(..., { onTransport })`; `before(n)` runs before the n-th download is sent.
 */
function countDownloads(before?: (reads: number) => void): {
  onTransport: (transport: RestTransport) => void;
  count: () => number;
} {
  let reads = 0;
  return {
    onTransport(transport) {
      const assets = transport.assets;
      const downloadStream = assets?.downloadStream?.bind(assets);
      if (assets === undefined || downloadStream === undefined) throw new Error('no assets');
      assets.downloadStream = (req, signal) => {
        reads++;
        before?.(reads);
        return downloadStream(req, signal);
      };
    },
    count: () => reads,
  };
}

/**
 * `body` cut into pieces of `limit / 2` bytes; after `limit` bytes it stalls (a connection that
 * hangs) until `signal` aborts.
 */
function stallAfter(
  body: ReadableStream<Uint8Array>,
  limit: number,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const piece = limit / 2;
  const reader = body.getReader();
  let held = new Uint8Array(0);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        await new Promise((_resolve, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason));
        });
      }
      while (held.length < piece) {
        const { done, value } = await reader.read();
        if (done) break;
        const joined = new Uint8Array(held.length + value.length);
        joined.set(held);
        joined.set(value, held.length);
        held = joined;
      }
      if (held.length === 0) return controller.close();
      controller.enqueue(held.slice(0, piece));
      sent += Math.min(piece, held.length);
      held = held.slice(piece);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Against a server whose `maxDeliveryTtlSeconds` is one hour (the fixture is started with that
 * cap): `deliveries.send` without a `ttl` leaves the TTL to the server, which takes its cap;
 * a `ttl` above the cap is a typed error.
 */
export function ttlCapClientStories(fixture: () => TargetingFixture): void {
  it(
    'a send without ttl lives until the server cap (1 h, server clock); a ttl of 2 h is refused with a typed 400',
    async () => {
      const f = fixture();
      const userId = f.newUser();
      const signed = await signInRetried(f.url, userId);
      const b = await f.signIn(userId); // a target that never acknowledges
      const client = createSyncClient({
        transport: restTransport({
          baseUrl: f.url,
          getToken: () => signed.token,
          session: createSessionSource({ userId, sessionId: signed.sessionId }),
          targeting: restTargeting(),
        }),
        storage: memoryStorage(),
        assetStore: memoryAssetStore(),
        targeting: sessionTargeting(),
      });
      try {
        await client.start();
        await vi.waitFor(() => expect(client.sessions.current?.active).toBe(true), EVENTUALLY);
        const sent = await client.deliveries.send({ kind: 'note', payload: { text: 'hi' } });
        expect(sent.expiresAt - sent.createdAt).toBe(HOUR);
        expect((await client.deliveries.status(sent.id)).targets).toContain(b.sessionId);
        f.clock.now += HOUR - 1;
        expect((await client.deliveries.status(sent.id)).expired).toBe(false);
        f.clock.now += 1;
        expect((await client.deliveries.status(sent.id)).expired).toBe(true);
        const error = await client.deliveries
          .send({ kind: 'note', ttl: 2 * 3600 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SyncError);
        expect(error).toMatchObject({
          kind: 'rejected',
          status: 400,
          code: 'invalid',
          message: expect.stringContaining('ttlSeconds is at most 3600'),
        });
      } finally {
        await client.stop();
      }
    },
    STORY_TIMEOUT_MS,
  );
}
