/**
 * The simulator's per-device checks (INV-5 checkpoints, INV-8 clock) across the lives of a
 * device, with a storage that can lose a write torn by a crash (the file-storage tier).
 */
import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/clock/hlc.js';
import type { StorageWrite } from '../../src/storage/types.js';
import { DeviceInvariants } from '../../src/testing/sim/device-invariants.js';

const hlc = (counter: number) => formatHlc({ wallTime: 1000, counter, nodeId: 'c' });
const outboxWrite = (id: string, counter: number): StorageWrite[] => [
  { type: 'set', key: `o/${id}`, value: { mutation: { id, hlc: hlc(counter) } } },
];
const clockWrite = (counter: number): StorageWrite[] => [
  { type: 'set', key: 'm/hlc', value: hlc(counter) },
];

function device() {
  const found: string[] = [];
  const invariants = new DeviceInvariants({
    id: 'd',
    sink: {
      violation: (inv, message) => found.push(`${inv} ${message}`),
      counters: { add: () => undefined },
    },
    compareCheckpoints: (a, b) => Number(a) - Number(b),
  });
  return { invariants, found };
}

describe('INV-8 across the lives of a device', () => {
  it('flags an HLC reused after a durable write, in a later life', () => {
    const { invariants, found } = device();
    invariants.lifeStarted();
    invariants.writeIssued('user:u', outboxWrite('m1', 5));
    invariants.writeDurable('user:u', outboxWrite('m1', 5));
    invariants.lifeStarted();
    invariants.writeIssued('user:u', outboxWrite('m2', 5));
    expect(found).toEqual([expect.stringMatching(/^INV-8 d stamped a new write m2/)]);
  });

  it('allows a later life to reuse the HLC of a write a crash tore (never durable)', () => {
    const { invariants, found } = device();
    invariants.lifeStarted();
    invariants.writeIssued('user:u', outboxWrite('m1', 4));
    invariants.writeDurable('user:u', outboxWrite('m1', 4));
    invariants.writeIssued('user:u', outboxWrite('m2', 5)); // torn: never durable
    invariants.lifeStarted();
    invariants.writeIssued('user:u', clockWrite(4));
    invariants.writeIssued('user:u', outboxWrite('m3', 5));
    expect(found).toEqual([]);
  });

  it('flags an HLC reused within one life, durable or not', () => {
    const { invariants, found } = device();
    invariants.lifeStarted();
    invariants.writeIssued('user:u', outboxWrite('m1', 5));
    invariants.writeIssued('user:u', outboxWrite('m2', 5));
    expect(found).toEqual([expect.stringMatching(/^INV-8 d stamped a new write m2/)]);
  });

  it('flags a persisted clock below a durable HLC', () => {
    const { invariants, found } = device();
    invariants.lifeStarted();
    invariants.writeIssued('user:u', clockWrite(7));
    invariants.writeDurable('user:u', clockWrite(7));
    invariants.lifeStarted();
    invariants.writeIssued('user:u', clockWrite(6));
    expect(found).toEqual([expect.stringMatching(/^INV-8 d persisted HLC .* in user:u after/)]);
  });
});

describe('INV-5 across the lives of a device', () => {
  const pull = (checkpoint: string | null) => ({ scope: 'user:u', checkpoint, limit: 3 });
  const page = (checkpoint: string, hasMore: boolean) => ({ changes: [], checkpoint, hasMore });

  it('flags a checkpoint that goes back without a reset', () => {
    const { invariants, found } = device();
    invariants.pullRequested('u', pull('5'));
    invariants.pullAnswered('u', pull('5'), page('9', false));
    invariants.pullRequested('u', pull('9'));
    invariants.pullRequested('u', pull('6'));
    expect(found).toEqual(['INV-5 d pulled user:u from checkpoint 6 after 9 without a reset']);
  });

  it('flags a pull from the start when no reset is open', () => {
    const { invariants, found } = device();
    invariants.pullRequested('u', pull('5'));
    invariants.pullAnswered('u', pull('5'), page('9', false));
    invariants.pullRequested('u', pull(null));
    expect(found).toEqual(['INV-5 d pulled user:u from checkpoint null after 5 without a reset']);
  });

  it('allows a reset that a restarted client starts over to go through its pages again', () => {
    const { invariants, found } = device();
    invariants.pullRequested('u', pull(null));
    invariants.pullAnswered('u', pull(null), page('5', true));
    invariants.pullRequested('u', pull('5'));
    invariants.pullAnswered('u', pull('5'), page('9', true));
    invariants.pullRequested('u', pull('9'));
    // Crash here; the new life finds the reset persisted and starts it over from null.
    invariants.pullRequested('u', pull(null));
    invariants.pullAnswered('u', pull(null), page('4', true));
    invariants.pullRequested('u', pull('4'));
    invariants.pullAnswered('u', pull('4'), page('12', false));
    invariants.pullRequested('u', pull('12'));
    invariants.pullRequested('u', pull('10'));
    expect(found).toEqual(['INV-5 d pulled user:u from checkpoint 10 after 12 without a reset']);
  });

  it('keeps a reset open until the write of its last page is durable: a crash before that starts it over', () => {
    const { invariants, found } = device();
    const reset: StorageWrite[] = [{ type: 'set', key: 'z/user:u', value: true }];
    const lastPage: StorageWrite[] = [
      { type: 'set', key: 'c/user:u', value: '9' },
      { type: 'delete', key: 'z/user:u' },
    ];
    invariants.pullRequested('u', pull(null));
    invariants.writeIssued('user:u', reset);
    invariants.writeDurable('user:u', reset);
    invariants.pullAnswered('u', pull(null), page('5', true));
    invariants.pullRequested('u', pull('5'));
    invariants.pullAnswered('u', pull('5'), page('9', false));
    invariants.writeIssued('user:u', lastPage); // a crash: never durable, the reset is still on disk
    invariants.lifeStarted();
    invariants.pullRequested('u', pull(null));
    expect(found).toEqual([]);
    // The pass over again, its last page durable this time: the reset is over for good.
    invariants.pullAnswered('u', pull(null), page('9', false));
    invariants.writeIssued('user:u', lastPage);
    invariants.writeDurable('user:u', lastPage);
    invariants.pullRequested('u', pull('9'));
    invariants.pullRequested('u', pull(null));
    expect(found).toEqual(['INV-5 d pulled user:u from checkpoint null after 9 without a reset']);
  });
});
