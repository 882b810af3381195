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

  it("uses the browser's timers and crypto for its environment (no setImmediate path)", async () => {
    expect(browser.createEnvironment).not.toBe(main.createEnvironment);
    const env = browser.createEnvironment();
    // Node's setImmediate is what the main entry uses for a zero delay; a browser has none.
    const handle = env.setTimeout(() => undefined, 0);
    expect(handle).not.toHaveProperty('immediate');
    env.clearTimeout(handle);
    expect(main.createEnvironment().setTimeout(() => undefined, 0)).toHaveProperty('immediate');
    const fired = await new Promise<boolean>((resolve) => {
      env.setTimeout(() => resolve(true), 0);
    });
    expect(fired).toBe(true);
    const bytes = env.randomBytes(new Uint8Array(32));
    expect(bytes.some((b) => b !== 0)).toBe(true);
  });
});
