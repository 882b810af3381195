import { afterEach, describe, expect, it } from 'vitest';
import { settle } from '../client/test-support.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { AssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import { CHUNK, sendingDevice, tempDirectories, until } from './send-test-support.js';
import { sha256Hex } from './sha256.js';

const directories = tempDirectories('syncline-send-import-');
afterEach(() => directories.removeAll());
let seed = 9800;

/**
 * A file asset store whose appends from `from` on wait until `open()` (a slow disk), or,
 * with `fail`, reject (a full disk).
 */
function slowStore(directory: string, from: number, fail = false) {
  const inner = fileAssetStore({ directory });
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const state = { appends: 0, open };
  const held = async (offset: number) => {
    state.appends++;
    if (offset < from) return;
    if (fail) throw new SyncError('storage', 'disk full', { code: 'quota_exceeded' });
    await gate;
  };
  const store: AssetStore = {
    ...inner,
    async append(key, offset, bytes) {
      await held(offset);
      await inner.append(key, offset, bytes);
    },
    async appendParts(key, offset, parts) {
      await held(offset);
      await (inner.appendParts as NonNullable<AssetStore['appendParts']>)(key, offset, parts);
    },
  };
  return { store, state };
}

async function pair(store: AssetStore) {
  const server = createMemoryServer({});
  const receiver = sendingDevice(server, 'sB', { seed: seed++ });
  await receiver.client.start();
  const sender = sendingDevice(server, 'sA', { store, seed: seed++ });
  await sender.client.start();
  await settle(10);
  const stop = async () => {
    await sender.client.stop();
    await receiver.client.stop();
  };
  return { server, receiver, sender, stop };
}

const image = new Uint8Array(5500).map((_, i) => (i * 7 + 3) & 0xff);
const hash = sha256Hex(image);

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}

describe('assets.send: bytes are hashed first, then written while they upload', () => {
  it('the chunks already written go up while the rest is still being written', async () => {
    const { store, state } = slowStore(await directories.make(), 2 * CHUNK);
    const { sender, receiver, stop } = await pair(store);

    const sending = sender.client.assets.send(image, { name: 'scan.pdf' });
    // The first two chunks are written; the third waits for the disk, the upload for it.
    await until(() => sender.offsets.length === 2);
    await settle(20);
    expect(sender.offsets).toEqual([0, CHUNK]);
    expect(receiver.received).toEqual([]);

    state.open();
    const sent = await sending;
    expect(sent).toMatchObject({ hash, size: 5500 });
    expect(sender.offsets).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * CHUNK));
    await until(() => receiver.received.length === 1);
    expect(await (await receiver.client.assets.get(hash))?.bytes()).toEqual(image);
    expect(await (await sender.client.assets.get(hash))?.bytes()).toEqual(image);
    await stop();
  });

  for (const [kind, source] of [
    ['a stream', () => streamOf(image)],
    ['a Blob', () => new Blob([image])],
  ] as const) {
    it(`${kind} is written whole before its first chunk goes up`, async () => {
      const { store, state } = slowStore(await directories.make(), 2 * CHUNK);
      const { sender, receiver, stop } = await pair(store);

      const sending = sender.client.assets.send(source(), { name: 'scan.pdf' });
      await until(() => state.appends >= 3);
      await settle(20);
      expect(sender.offsets).toEqual([]);

      state.open();
      expect(await sending).toMatchObject({ hash, size: 5500 });
      await until(() => receiver.received.length === 1);
      expect(await (await receiver.client.assets.get(hash))?.bytes()).toEqual(image);
      await stop();
    });
  }

  it('bytes changed between the hash and the write fail the send; nothing is stored or delivered', async () => {
    const bytes = image.slice();
    const changed = image.slice();
    changed[4000] = (changed[4000] as number) ^ 0xff;
    const inner = fileAssetStore({ directory: await directories.make() });
    // The write starts by clearing its partial: the app changes the array just then.
    const store: AssetStore = {
      ...inner,
      async discardPartial(key) {
        bytes[4000] = changed[4000] as number;
        await inner.discardPartial(key);
      },
    };
    const { sender, receiver, server, stop } = await pair(store);

    const error = await sender.client.assets.send(bytes).catch((e) => e);
    expect(isSyncError(error) && error.code).toBe('source_changed');
    expect(await sender.client.assets.get(hash)).toBeUndefined();
    expect(await sender.client.assets.get(sha256Hex(changed))).toBeUndefined();
    // The server took the chunks named by the first hash and refused the whole (its bytes
    // hash otherwise): it dropped the copy.
    const assets = server.connect({ userId: 'u1', sessionId: 'sA' }).assets;
    const probe = await assets.probe?.(hash).catch((e) => e);
    expect(isSyncError(probe) && probe.status).toBe(404);
    await settle(30);
    expect(receiver.received).toEqual([]);
    await stop();
  });

  it('a write that fails fails the send with its error; the upload does not wait for it', async () => {
    const { store } = slowStore(await directories.make(), 3 * CHUNK, true);
    const { sender, receiver, stop } = await pair(store);

    const error = await sender.client.assets.send(image.slice()).catch((e) => e);
    expect(isSyncError(error) && [error.kind, error.code]).toEqual(['storage', 'quota_exceeded']);
    expect(sender.offsets.every((offset) => offset < 3 * CHUNK)).toBe(true);
    expect(await sender.client.assets.get(hash)).toBeUndefined();
    await settle(30);
    expect(receiver.received).toEqual([]);
    expect(sender.progress.at(-1)?.state).toBe('failed');
    await stop();
  });
});

describe('assets.send: the partial is flushed while it is written', () => {
  for (const [kind, source] of [
    ['bytes', () => image],
    ['a stream', () => streamOf(image)],
    ['a Blob', () => new Blob([image])],
  ] as const) {
    it(`${kind}: flushed along the way, one flush at a time, all before the commit`, async () => {
      const files = fileAssetStore({ directory: await directories.make() });
      const events: string[] = [];
      let flushing = 0;
      const store: AssetStore = {
        ...files,
        flushPartial: async (key) => {
          flushing++;
          const size = await files.partialSize(key);
          await (files.flushPartial as NonNullable<AssetStore['flushPartial']>)(key);
          events.push(`flushed ${size} ${flushing}`);
          flushing--;
        },
        commit: async (key, sha256, meta) => {
          events.push('commit');
          await files.commit(key, sha256, meta);
        },
      };
      const { sender, receiver, stop } = await pair(store);
      expect(await sender.client.assets.send(source(), { name: 'scan.pdf' })).toMatchObject({
        hash,
        size: 5500,
      });
      const flushes = events.filter((e) => e.startsWith('flushed')).map((e) => e.split(' '));
      expect(flushes.some(([, size]) => Number(size) > 0 && Number(size) < image.length)).toBe(
        true,
      );
      expect(flushes.every(([, , running]) => running === '1')).toBe(true);
      expect(events.at(-1)).toBe('commit');
      await until(() => receiver.received.length === 1);
      await stop();
    });
  }
});
