/** Where the adapter keeps the URLs of unfinished resumable uploads by default. */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultUploadUrls } from '../src/storage-upload.js';

const global = globalThis as { localStorage?: unknown };

afterEach(() => {
  delete global.localStorage;
});

describe('defaultUploadUrls', () => {
  it("is the platform's localStorage where there is one (an upload resumes after a reload)", () => {
    const items = new Map<string, string>();
    const storage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    };
    global.localStorage = storage;
    expect(defaultUploadUrls()).toBe(storage);
  });

  it('is an in-memory store where there is none, or where reading it throws', async () => {
    const inMemory = defaultUploadUrls();
    await inMemory.setItem('k', 'v');
    expect(await inMemory.getItem('k')).toBe('v');
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get() {
        throw new Error('SecurityError');
      },
    });
    expect(() => defaultUploadUrls()).not.toThrow();
    expect(await defaultUploadUrls().getItem('k')).toBeNull();
  });
});
