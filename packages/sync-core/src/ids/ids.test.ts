import { describe, expect, it } from 'vitest';

import { memoryStorage } from '../storage/memory.js';
import { loadClientId } from './client-id.js';
import { createUuidV7 } from './uuid-v7.js';

describe('createUuidV7', () => {
  it('makes lowercase RFC 9562 v7 ids whose first 48 bits are the clock', () => {
    const next = createUuidV7({ now: () => 0x0123456789ab, random: () => 0.5 });
    const id = next();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(id.slice(0, 8) + id.slice(9, 13)).toBe('0123456789ab');
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('lays out clock, version, counter, variant and random bits exactly', () => {
    // random() = 0.5: counter 0x200, both random words 0x80000000.
    const next = createUuidV7({ now: () => 0x0123456789ab, random: () => 0.5 });
    expect(next()).toBe('01234567-89ab-7200-8000-000080000000');
    expect(next()).toBe('01234567-89ab-7201-8000-000080000000');
  });

  it('is strictly increasing within one millisecond and when the clock steps back', () => {
    let now = 1_000_000;
    let seed = 0;
    const next = createUuidV7({
      now: () => now,
      random: () => {
        seed = (seed * 9301 + 49297) % 233280;
        return seed / 233280;
      },
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
