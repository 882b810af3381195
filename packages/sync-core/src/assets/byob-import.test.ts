import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryServer } from '../testing/memory-server.js';
import { memoryAssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import { CHUNK, sendingDevice, tempDirectories } from './send-test-support.js';
import { sha256Hex } from './sha256.js';
import { IMPORT_BATCH_BYTES, writeAsset } from './transfer-io.js';

const directories = tempDirectories('syncline-byob-import-');
afterEach(() => directories.removeAll());

const bytes = new Uint8Array(CHUNK * 7 + 321).map((_, i) => (i * 13 + 5) & 0xff);

/**
 * A byte stream of `bytes` that records, per pull, whether the reader gave it a view to fill
 * (a BYOB read), and the size of that view; it answers reads of 700 bytes at most, fewer than
 * a chunk, so that a reader filling chunks has to read several times into one buffer.
 */
function byteSource() {
  const pulls: { view: number | undefined }[] = [];
  let at = 0;
  const stream = new ReadableStream({
    type: 'bytes',
    pull(controller) {
      const request = controller.byobRequest;
      pulls.push({ view: request?.view?.byteLength });
      if (at >= bytes.length) {
        controller.close();
        request?.respond(0);
        return;
      }
      const end = Math.min(bytes.length, at + 700);
      if (request?.view) {
        const n = Math.min(end - at, request.view.byteLength);
        new Uint8Array(request.view.buffer, request.view.byteOffset, n).set(
          bytes.subarray(at, at + n),
        );
        at += n;
        request.respond(n);
      } else {
        controller.enqueue(bytes.slice(at, end));
        at = end;
      }
    },
  });
  return { stream, pulls };
}

/**
 * Imports `source` into a new memory asset store with chunks of `chunkBytes`, and answers the
 * store, the import's result and the offsets at which it appended.
 */
async function importOf(source: Parameters<typeof writeAsset>[0]['source'], chunkBytes = CHUNK) {
  const store = memoryAssetStore();
  const written: number[] = [];
  const result = await writeAsset({
    store,
    source,
    key: 'p1',
    meta: { name: 'a.bin' },
    chunkBytes,
    onWritten: (end) => written.push(end),
  });
  return { store, result, written };
}

describe('an import of a byte stream', () => {
  it('reads it into buffers of its own (BYOB), each filled to a chunk before it is written', async () => {
    const { stream, pulls } = byteSource();
    const { store, result, written } = await importOf(stream);
    expect(result).toEqual({ hash: sha256Hex(bytes), size: bytes.length });
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((pull) => pull.view !== undefined)).toBe(true);
    // Every append but the last is a whole chunk, although the stream answers 700 at a time.
    expect(written).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => n * CHUNK).concat(bytes.length));
    await store.commit('p1', result.hash, { name: 'a.bin', size: result.size });
    expect(await store.read(result.hash, 0, bytes.length)).toEqual(bytes);
  });
});

describe('an import with chunks larger than its batches', () => {
  it('reads and appends the source in batches of IMPORT_BATCH_BYTES', async () => {
    // The upload goes in chunks of `chunkBytes`; the import's two reused buffers are smaller.
    const size = 5 * IMPORT_BATCH_BYTES + 123;
    const large = new Uint8Array(size).map((_, i) => (i * 7 + 3) & 0xff);
    let at = 0;
    const views: number[] = [];
    const stream = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        const request = controller.byobRequest;
        if (at >= size || !request?.view) {
          controller.close();
          request?.respond(0);
          return;
        }
        views.push(request.view.byteLength);
        const n = Math.min(size - at, request.view.byteLength, 300_000);
        new Uint8Array(request.view.buffer, request.view.byteOffset, n).set(
          large.subarray(at, at + n),
        );
        at += n;
        request.respond(n);
      },
    });
    const { result, written } = await importOf(stream, 4 * IMPORT_BATCH_BYTES);
    expect(result).toEqual({ hash: sha256Hex(large), size });
    expect(written).toEqual([1, 2, 3, 4, 5].map((n) => n * IMPORT_BATCH_BYTES).concat(size));
    expect(Math.max(...views)).toBe(IMPORT_BATCH_BYTES);
  });
});

describe('an import of a Blob', () => {
  it('takes the pieces its stream hands out as they are (no BYOB read, no copy)', async () => {
    // A Blob's stream in Node is a byte stream that enqueues a new 64 KiB buffer per read even
    // for a BYOB reader, which then copies it: a default read takes the piece itself.
    const { stream, pulls } = byteSource();
    class StreamedBlob extends Blob {
      override stream() {
        return stream as ReturnType<Blob['stream']>;
      }
    }
    const { store, result, written } = await importOf(new StreamedBlob([bytes]));
    expect(result).toEqual({ hash: sha256Hex(bytes), size: bytes.length });
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((pull) => pull.view === undefined)).toBe(true);
    // The pieces (700 bytes each) are still appended in batches of at least a chunk.
    expect(written.slice(0, -1).every((end, i) => end - (written[i - 1] ?? 0) >= CHUNK)).toBe(true);
    expect(written.at(-1)).toBe(bytes.length);
    await store.commit('p1', result.hash, { name: 'a.bin', size: result.size });
    expect(await store.read(result.hash, 0, bytes.length)).toEqual(bytes);
  });
});

describe("a stored asset's stream", () => {
  it("is a byte stream read from the file store into the reader's own buffer", async () => {
    const server = createMemoryServer({});
    const device = sendingDevice(server, 's1', {
      store: fileAssetStore({ directory: await directories.make() }),
      seed: 9900,
    });
    await device.client.start();
    const file = await device.client.assets.add(bytes, { name: 'a.bin' });
    const asset = await device.client.assets.get(file.hash);
    const reader = (asset as NonNullable<typeof asset>).stream().getReader({ mode: 'byob' });
    const read: Uint8Array[] = [];
    let buffer = new ArrayBuffer(CHUNK * 2);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value === undefined) break;
      buffer = value.buffer; // the same memory, transferred back
      expect(value.buffer.byteLength).toBe(CHUNK * 2);
      read.push(value.slice());
      if (done) break;
    }
    const total = read.reduce((sum, piece) => sum + piece.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const piece of read) {
      joined.set(piece, at);
      at += piece.length;
    }
    expect(joined).toEqual(bytes);
    await device.client.stop();
  });
});
