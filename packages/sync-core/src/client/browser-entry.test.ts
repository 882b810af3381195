import { describe, expect, it } from 'vitest';
import * as browser from '../browser.js';
import * as main from '../index.js';
import { createMemoryServer } from '../testing/index.js';

// The browser build (`@syncline/sync-core` under the `browser` export condition) is the main
// entry with a `createSyncClient` whose default storage is IndexedDB only, so a browser app does
// not ship the in-memory store for a fallback it never takes.
describe('the browser entry', () => {
  it('exports exactly what the main entry exports', () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(main).sort());
    expect(browser.createSyncClient).not.toBe(main.createSyncClient);
  });

  it('constructs where IndexedDB is missing, and start() says to pass storage', async () => {
    expect(typeof indexedDB).toBe('undefined'); // Node, as in a jsdom test or a worker without it
    const transport = createMemoryServer().connect({ userId: 'u1' });
    const client = browser.createSyncClient({ transport }); // a server render does this safely
    let error: unknown;
    try {
      await client.start();
    } catch (caught) {
      error = caught;
    }
    expect(main.isSyncError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'storage' });
    expect((error as Error).message).toMatch(/createSyncClient\(\{ storage \}\)/);
  });

  it('works with the storage the app passes', async () => {
    const server = createMemoryServer();
    const client = browser.createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: main.memoryStorage(),
    });
    await client.start();
    await client.put('todos', 't1', { title: 'x' });
    expect(client.get('todos', 't1')).toEqual({ title: 'x' });
    await client.stop();
  });
});
