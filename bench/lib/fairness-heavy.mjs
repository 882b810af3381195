// The heavy user of bench/server-fairness.mjs, in a worker thread: its own event loop, as a
// user on another machine has. Building and sending 20 MB in the light user's event loop made
// the LIGHT user's requests wait in the client, which measured the bench, not the server.
import { parentPort, workerData } from 'node:worker_threads';
import { pushBody, pushWithRetry } from './fairness-push.mjs';

const { url, token, userId, pushes, mutations, filler } = workerData;
// ~1 MB each (under the 1 MiB body limit), built before the burst starts.
const texts = Array.from({ length: pushes }, () => pushBody(userId, mutations, filler));
parentPort.postMessage({ ready: true });
parentPort.once('message', async () => {
  const started = performance.now();
  const results = await Promise.all(texts.map((text) => pushWithRetry(url, token, text)));
  parentPort.postMessage({
    seconds: (performance.now() - started) / 1000,
    refused: results.reduce((sum, r) => sum + r.refused, 0),
  });
});
