import { fileAssetStore } from '@syncline/sync-core/node';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const MB = 1 << 20;
const dir = await mkdtemp(join(tmpdir(), 'imp-'));
const store = fileAssetStore({ directory: dir });
const size = 50 * MB;
for (let at = 0; at < size; at += 4 * MB) await store.append('src', at, new Uint8Array(4 * MB).fill(at / MB));
const h0 = createHash('sha256');
for (let at = 0; at < size; at += 4 * MB) h0.update(await store.readPartial('src', at, at + 4 * MB));
const hash = h0.digest('hex');
await store.commit('src', hash, { size });
const piece = Number(process.argv[2] ?? 4) * MB;
const stream = () => { let at = 0; return new ReadableStream({ async pull(c) { if (at >= size) return c.close(); const end = Math.min(size, at + piece); c.enqueue(await store.read(hash, at, end)); at = end; } }); };
async function timed(name, fn) { global.gc?.(); const c0 = process.cpuUsage(); const t0 = performance.now(); await fn(); const t = performance.now() - t0; const c = process.cpuUsage(c0); console.log(name.padEnd(28), t.toFixed(0), 'ms wall', ((c.user + c.system) / 1000).toFixed(0), 'ms cpu'); }
for (let round = 0; round < 2; round++) {
await timed('read stream', async () => { for await (const c of stream()) {} });
await timed('read+hash', async () => { const h = createHash('sha256'); for await (const c of stream()) h.update(c); h.digest('hex'); });
await timed('hash only (in mem 4MB)', async () => { const b = new Uint8Array(4*MB); const h = createHash('sha256'); for (let i=0;i<size;i+=4*MB) h.update(b); h.digest('hex'); });
await timed('read+hash+append', async () => { const h = createHash('sha256'); let off = 0; await store.discardPartial('x'); for await (const c of stream()) { h.update(c); await store.append('x', off, c); off += c.length; } h.digest('hex'); });
await timed('commit (datasync)', async () => { await store.commit('x', 'y'+round, { size }); });
}
await rm(dir, { recursive: true, force: true });
