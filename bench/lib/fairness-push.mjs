// Push helpers of bench/server-fairness.mjs, shared by the light user and the heavy worker.
import { randomUUID } from 'node:crypto';

/** The JSON text of a push of `count` new records of `userId`, each with `filler` characters. */
export function pushBody(userId, count, filler) {
  const scope = `user:${userId}`;
  const mutations = Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    scope,
    collection: 'items',
    recordId: `r-${randomUUID()}`,
    op: 'put',
    data: { n: i, text: 'x'.repeat(filler) },
    baseRevision: 0,
    hlc: `${Date.now().toString(16).padStart(12, '0')}:${(i % 65536).toString(16).padStart(4, '0')}:${userId}`,
  }));
  return JSON.stringify({ clientId: `bench-${userId}`, sessionId: 's', mutations });
}

/** One push; retries after each 429 as its Retry-After says. Resolves with { ms, refused }. */
export async function pushWithRetry(url, token, text) {
  let refused = 0;
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${url}/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: text,
    });
    await response.arrayBuffer();
    if (response.status === 200) return { ms: performance.now() - started, refused };
    if (response.status !== 429) throw new Error(`push answered ${response.status}`);
    refused++;
    const wait = Number(response.headers.get('retry-after') ?? '1') * 1000;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
