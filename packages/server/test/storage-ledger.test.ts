import { describe, expect, it } from 'vitest';
import { type Grants, StorageLedger } from '../src/targeting/storage-ledger.js';

const QUOTA = 1000;

describe('StorageLedger', () => {
  it("runs one user's decisions one at a time, each seeing the grants of those before", async () => {
    const ledger = new StorageLedger();
    const seen: Grants[] = [];
    // Each decision "sums" only after a pause (a statement's round trip): the second must not
    // start before the first recorded its grant.
    const grow = (uploadId: string) =>
      ledger.decide('u', async (grants) => {
        seen.push(grants);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const used = grants.bytes.reduce((sum, bytes) => sum + bytes, 0);
        if (used + 600 > QUOTA) return { outcome: false };
        return { outcome: true, used: used + 600, grant: { uploadId, bytes: 600 } };
      });
    expect(await Promise.all([grow('a'), grow('b')])).toEqual([true, false]);
    expect(seen).toEqual([
      { ids: [], bytes: [] },
      { ids: ['a'], bytes: [600] },
    ]);
  });

  it('grows a grant without a decision while the known total stays within the quota', async () => {
    const ledger = new StorageLedger();
    expect(ledger.tryGrow('u', 'a', 100, QUOTA)).toBe(false); // nothing known yet
    await ledger.decide('u', async () => ({
      outcome: 0,
      used: 100,
      grant: { uploadId: 'a', bytes: 100 },
    }));
    expect(ledger.tryGrow('u', 'a', 900, QUOTA)).toBe(true);
    expect(ledger.tryGrow('u', 'a', 1001, QUOTA)).toBe(false);
    expect(ledger.tryGrow('u', 'a', 500, QUOTA)).toBe(true); // within its grant
    // A decision running makes the total unknown: growth waits for a decision.
    let release = () => {};
    const running = ledger.decide(
      'u',
      () =>
        new Promise<{ outcome: number; used: number }>((resolve) => {
          release = () => resolve({ outcome: 0, used: 950 });
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ledger.tryGrow('u', 'a', 950, QUOTA)).toBe(false);
    release();
    await running;
    expect(ledger.tryGrow('u', 'a', 950, QUOTA)).toBe(true);
    // Forgotten, the upload counts as the database says again.
    ledger.forget('u', 'a');
    expect(ledger.tryGrow('u', 'a', 950, QUOTA)).toBe(false);
  });
});
