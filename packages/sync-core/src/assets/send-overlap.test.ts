import { afterEach, describe, expect, it } from 'vitest';
import { settle } from '../client/test-support.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { AssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import { CHUNK, sendingDevice, tempDirectories, until } from './send-test-support.js';
import { sha256Hex } from './sha256.js';

const directories = tempDirectories('syncline-overlap-');
afterEach(() => directories.removeAll());
const tempDirectory = () => directories.make();
let seed = 9700;
const device = (
  server: ReturnType<typeof createMemoryServer>,
  sessionId: string,
  state: { storage?: StorageAdapter; store?: AssetStore } = {},
) => sendingDevice(server, sessionId, { ...state, seed: seed++ });

/** A file asset store whose commits wait until `open()` is called (a slow sync, or a crash). */
function gatedStore(directory: string) {
  const inner = fileAssetStore({ directory });
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const state = { commitsStarted: 0, commitsDone: 0, open };
  const store: AssetStore = {
    ...inner,
    async commit(key, sha256, meta) {
      state.commitsStarted++;
      await gate;
      await inner.commit(key, sha256, meta);
      state.commitsDone++;
    },
  };
  return { store, state };
}

describe('assets.send: the upload overlaps the commit of the imported bytes', () => {
  it('uploads from the written bytes while the commit runs; the delivery waits for the commit', async () => {
    const server = createMemoryServer({});
    const receiver = device(server, 'sB');
    await receiver.client.start();
    const { store, state } = gatedStore(await tempDirectory());
    const sender = device(server, 'sA', { store });
    await sender.client.start();
    await settle(10);
    const image = new Uint8Array(5500).map((_, i) => (i * 11 + 5) & 0xff);
    const hash = sha256Hex(image);

    const sending = sender.client.assets.send(image, { name: 'scan.pdf' });
    // Every chunk went up while the commit was held back, read from the written partial. The
    // commit starts once the partial is written and its flush behind the writes is done (an
    // fdatasync, slow on a busy disk), so the last chunk may go up before or after it starts:
    // both are waited for; the gate keeps the commit from finishing either way.
    await until(() => sender.offsets.length === 6 && state.commitsStarted === 1);
    expect(sender.offsets).toHaveLength(6);
    expect(state).toMatchObject({ commitsStarted: 1, commitsDone: 0 });
    await settle(20);
    expect(receiver.received).toEqual([]); // no delivery before the bytes are committed

    state.open();
    const sent = await sending;
    expect(sent).toMatchObject({ hash, size: 5500 });
    expect(state.commitsDone).toBe(1);
    await until(() => receiver.received.length === 1);
    expect(await (await receiver.client.assets.get(hash))?.bytes()).toEqual(image);
    expect(await (await sender.client.assets.get(hash))?.bytes()).toEqual(image);
    await sender.client.stop();
    await receiver.client.stop();
  });

  it('a crash before the commit leaves no send behind; one after it continues on restart', async () => {
    const directory = await tempDirectory();
    const storage = memoryStorage(); // outlives the client, as a file or IndexedDB would
    const server = createMemoryServer({});
    const receiver = device(server, 'sB');
    await receiver.client.start();
    const image = new Uint8Array(5500).map((_, i) => (i * 3 + 1) & 0xff);
    const hash = sha256Hex(image);

    // The process dies while the commit is still held back (and two chunks are up).
    const crashed = gatedStore(directory);
    const first = device(server, 'sA', { storage, store: crashed.store });
    first.hangFrom(2);
    await first.client.start();
    await settle(10);
    void first.client.assets.send(image, { name: 'a.bin' }).catch(() => undefined);
    await until(() => first.offsets.length >= 3 && crashed.state.commitsStarted === 1);
    await first.client.stop(); // the commit never finishes: the gate stays shut

    const second = device(server, 'sA', { storage, store: fileAssetStore({ directory }) });
    await second.client.start();
    await settle(30);
    expect(second.progress).toEqual([]); // no intent was recorded: nothing to continue
    expect(await second.client.assets.get(hash)).toBeUndefined();
    await second.client.stop();

    // Crashed after the commit (and so the intent): the restart continues the upload.
    const committed = gatedStore(directory);
    committed.state.open();
    const third = device(server, 'sA', { storage, store: committed.store });
    third.hangFrom(1); // the first crash left 2 chunks up: one more goes
    await third.client.start();
    await settle(10);
    const sending = third.client.assets.send(image, { name: 'a.bin' });
    sending.catch(() => undefined);
    await until(() => third.offsets.length >= 2 && committed.state.commitsDone === 1);
    await third.client.stop();
    await expect(sending).rejects.toBeDefined();

    const fourth = device(server, 'sA', { storage, store: fileAssetStore({ directory }) });
    await fourth.client.start();
    await until(() => receiver.received.length === 1);
    expect(fourth.offsets[0]).toBe(3 * CHUNK); // from where the server's copy ends
    expect(await (await receiver.client.assets.get(hash))?.bytes()).toEqual(image);
    await fourth.client.stop();
    await receiver.client.stop();
  });
});
