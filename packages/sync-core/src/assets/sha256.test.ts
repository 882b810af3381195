import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex } from './sha256.js';

function reference(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('Sha256', () => {
  it('matches the known vectors', () => {
    expect(sha256Hex(new Uint8Array())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('gives the same digest whatever the chunking, for every length around block edges', () => {
    for (let length = 0; length < 300; length += 7) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
      const hash = new Sha256();
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
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(sha256Hex(bytes)).toBe(hex);
  });
});
