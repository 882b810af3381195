// One side of the asset bench of client-targeting.mjs, in its own process so that the RSS of
// the sender and of the receiver are measured apart: a sync client (createSyncClient +
// restTransport, session targeting) with a fileAssetStore. Driven over the fork IPC channel.
//
//   sender:   signs in, adds a generated file of `mb` MB to its store (not timed), says
//             `ready`; on `go`, `client.assets.send`s it and answers `sent` with the start and
//             end times. The source is `source`: `stream` (the stored asset's `stream()`,
//             read once) or `blob` (the same bytes in a file next to the store, as
//             `fs.openAsBlob`).
//   receiver: signs in, says `ready`; answers `received` with the time its `delivery` handler
//             ran (the asset downloaded, verified and stored before that).
//
// Times are absolute (performance.timeOrigin + now), comparable across the processes.
import { openAsBlob } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileAssetStore } from '@syncline/sync-core/node';
import { device } from './targeting-device.mjs';

const MB = 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();
const [role, url, userId, directory, mbText, chunkMbText, windowText, sourceKind] =
  process.argv.slice(2);
const sourcePath = `${directory}-source.bin`;
const mb = Number(mbText);

const tuning = {
  ...(chunkMbText === '-' ? {} : { assetChunkBytes: Number(chunkMbText) * MB }),
  ...(windowText === '-' ? {} : { assetUploadWindow: Number(windowText) }),
};

const { client } = await device(url, userId, {
  assetStore: fileAssetStore({ directory }),
  ...tuning,
});

const send = (message) => process.send?.(message);
// Phase times from the `transfer` events: when this side's first one came (the sender's import
// is done, the receiver's download begins) and when its last byte moved.
const phases = { first: undefined, lastByte: undefined };
client.on('transfer', (progress) => {
  phases.first ??= now();
  if (progress.totalBytes > 0 && progress.bytesDone >= progress.totalBytes) {
    phases.lastByte ??= now();
  }
});
process.on('message', async (message) => {
  if (message === 'stop') {
    await client.stop();
    process.exit(0);
  }
  if (message === 'go' && role === 'sender') {
    const t0 = now();
    const source = sourceKind === 'blob' ? await openAsBlob(sourcePath) : file.stream();
    const sent = await client.assets.send(source, { name: 'big.bin' });
    const t1 = now();
    if (sent.hash !== file.hash) throw new Error('hash changed in transit');
    send({ type: 'sent', t0, t1, ...phases });
  }
});

let file;
if (role === 'sender') {
  // The file is generated as a stream: the sender never holds it whole.
  const size = mb * MB;
  let made = 0;
  const source = new ReadableStream({
    pull(controller) {
      if (made >= size) return controller.close();
      const n = Math.min(MB, size - made);
      controller.enqueue(new Uint8Array(n).fill(made / MB));
      made += n;
    },
  });
  if (sourceKind === 'blob') {
    await writeFile(sourcePath, source); // the file is written piece by piece, never held whole
    file = await client.assets.add(await openAsBlob(sourcePath), { name: 'big.bin' });
  } else {
    file = await client.assets.add(source, { name: 'big.bin' });
  }
} else {
  client.on('delivery', () => send({ type: 'received', t2: now(), ...phases }));
}
global.gc?.();
send({ type: 'ready' });
