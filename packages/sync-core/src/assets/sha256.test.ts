import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex } from './sha256.js';

function reference(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.each([
  ['native', true],
  ['JavaScript', false],
])('Sha256 (%s rounds)', (_name, native) => {
  const hex = (bytes: Uint8Array) => new Sha256({ native }).update(bytes).digestHex();

  it('matches the known vectors', () => {
    expect(hex(new Uint8Array())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(hex(new TextEncoder().encode('abc')));
  });

  it('says whether it runs on the native hash', () => {
    expect(new Sha256({ native }).native).toBe(native);
  });

  it('refuses an update or a digest after the digest', () => {
    const hash = new Sha256({ native });
    hash.digestHex();
    expect(() => hash.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => hash.digestHex()).toThrow(/twice/);
  });

  it('gives the same digest whatever the chunking, for every length around block edges', () => {
    for (let length = 0; length < 300; length += 7) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
      const hash = new Sha256({ native });
      let at = 0;
      let step = 1;
      while (at < length) {
        hash.update(bytes.subarray(at, at + step));
        at += step;
        step = (step * 3) % 70 || 1;
      }
      expect(hash.digestHex()).toBe(reference(bytes));
    }
  });

  it('agrees with Web Crypto on a megabyte', async () => {
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const webHex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex(bytes)).toBe(webHex);
  });
});
