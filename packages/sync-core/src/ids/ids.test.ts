import { describe, expect, it, vi } from 'vitest';
import { bytesFromRandom, createEnvironment } from '../env/environment.js';
import { memoryStorage } from '../storage/memory.js';
import { loadClientId } from './client-id.js';
import { createUuidV7 } from './uuid-v7.js';

describe('createUuidV7', () => {
  it('makes lowercase RFC 9562 v7 ids whose first 48 bits are the clock', () => {
    const next = createUuidV7({
      now: () => 0x0123456789ab,
      randomBytes: bytesFromRandom(() => 0.5),
    });
    const id = next();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(id.slice(0, 8) + id.slice(9, 13)).toBe('0123456789ab');
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('lays out clock, version, counter, variant and random bits exactly', () => {
    // Every byte 0x80: counter 0x8080 & 0x3ff = 0x080, both random words 0x80808080.
    const next = createUuidV7({ now: () => 0x0123456789ab, randomBytes: (b) => b.fill(0x80) });
    expect(next()).toBe('01234567-89ab-7080-8080-808080808080');
    expect(next()).toBe('01234567-89ab-7081-8080-808080808080');
  });

  it('keeps a clock past the 48-bit range (or a broken one) to a well-formed id', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const now of [2 ** 48 + 1000, Number.MAX_SAFE_INTEGER, Number.NaN, -5]) {
      const id = createUuidV7({ now: () => now, randomBytes: (b) => b.fill(0x80) })();
      expect(id).toMatch(uuid);
    }
    const late = createUuidV7({ now: () => 2 ** 48 + 1000, randomBytes: (b) => b.fill(0x80) })();
    expect(late.slice(0, 13)).toBe('ffffffff-ffff');
  });

  it('is strictly increasing within one millisecond and when the clock steps back', () => {
    let now = 1_000_000;
    let seed = 0;
    const next = createUuidV7({
      now: () => now,
      randomBytes: bytesFromRandom(() => {
        seed = (seed * 9301 + 49297) % 233280;
        return seed / 233280;
      }),
    });
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (i === 5000) now -= 50;
      ids.push(next());
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('ids from the real environment', () => {
  it('come from crypto.getRandomValues, not Math.random', () => {
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const mathRandom = vi.spyOn(Math, 'random');
    try {
      const next = createUuidV7(createEnvironment());
      const a = next();
      const b = createUuidV7(createEnvironment())();
      expect(getRandomValues).toHaveBeenCalled();
      expect(mathRandom).not.toHaveBeenCalled();
      expect(a.slice(19)).not.toBe(b.slice(19));
    } finally {
      getRandomValues.mockRestore();
      mathRandom.mockRestore();
    }
  });

  it('follow an injected random source, so seeded tests stay reproducible', () => {
    const seeded = () => createUuidV7(createEnvironment({ now: () => 5, random: () => 0.25 }))();
    expect(seeded()).toBe(seeded());
  });

  it('refuse a runtime without crypto.getRandomValues with a typed error', () => {
    const crypto = globalThis.crypto;
    vi.stubGlobal('crypto', undefined);
    try {
      expect(() => createEnvironment()).toThrow(expect.objectContaining({ code: 'no_crypto' }));
      expect(() => createEnvironment({ randomBytes: (b) => b })).not.toThrow();
    } finally {
      vi.stubGlobal('crypto', crypto);
      vi.unstubAllGlobals();
    }
  });
});

describe('loadClientId', () => {
  it('creates the id once and returns the stored one afterwards', async () => {
    const storage = memoryStorage();
    let n = 0;
    const gen = () => `id-${++n}`;
    const first = await loadClientId(storage, gen);
    const second = await loadClientId(storage, gen);
    expect(first).toBe('id-1');
    expect(second).toBe('id-1');
    expect(await storage.get('device', 'clientId')).toBe('id-1');
  });
});
