import { describe, expect, it } from 'vitest';
import type { SyncEvents } from '../api/events.js';
import { SyncError } from '../errors/sync-error.js';
import { Emitter } from '../observe/emitter.js';
import { Notifier } from '../observe/notifier.js';
import { StatusMachine } from './status-machine.js';
import type { SyncStatus } from './types.js';

/** A real emitter whose `status` events go to `events` (from the start unless `listen` is false). */
function statusEvents(listen = true) {
  const emitter = new Emitter<SyncEvents>();
  const events: SyncStatus[] = [];
  const listener = (s: SyncStatus) => events.push(s);
  const listenNow = () => emitter.on('status', listener);
  if (listen) listenNow();
  return { emitter, events, listenNow };
}

function setup() {
  const { emitter, events } = statusEvents();
  const machine = new StatusMachine(emitter, new Notifier(emitter));
  return { machine, events };
}
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('StatusMachine', () => {
  it('starts local and walks local → syncing → synced → offline → error → synced', async () => {
    const { machine, events } = setup();
    expect(machine.snapshot.state).toBe('local');
    machine.sessionChanged('u1');
    await tick();
    machine.requestStarted();
    machine.requestEnded();
    machine.caughtUp(1000, true);
    await tick();
    expect(machine.snapshot).toMatchObject({ state: 'synced', lastSyncedAt: 1000 });
    machine.connectivity(false);
    await tick();
    machine.connectivity(true);
    const err = new SyncError('server', '503');
    machine.failed(err);
    expect(machine.snapshot).toMatchObject({ state: 'error', error: err });
    await tick();
    machine.succeeded();
    expect(machine.snapshot.error).toBeUndefined();
    await tick();
    expect(events.map((e) => e.state)).toEqual(['syncing', 'synced', 'offline', 'error', 'synced']);
  });

  it('derives nothing on flush while nobody listens, and emits again once someone does', () => {
    const { emitter, events, listenNow } = statusEvents(false);
    // The batch runs the last deferred step when the test says so.
    let step = (): void => {};
    const flush = () => step();
    const machine = new StatusMachine(emitter, {
      defer: (deferred) => {
        step = deferred;
      },
    });
    machine.sessionChanged('u1');
    machine.counts(3, 0, 0);
    flush();
    expect(events).toEqual([]);
    // A read still sees the current state.
    expect(machine.snapshot).toMatchObject({ state: 'syncing', pending: 3, userId: 'u1' });
    listenNow();
    machine.counts(4, 0, 0);
    flush();
    expect(events.map((e) => e.pending)).toEqual([4]);
  });

  it('keeps an auth error until the session changes or a request succeeds again', () => {
    const { machine } = setup();
    machine.sessionChanged('u1');
    machine.failed(new SyncError('auth', '401'));
    machine.connectivity(false);
    machine.connectivity(true);
    machine.requestStarted();
    machine.requestEnded();
    expect(machine.snapshot.state).toBe('error');
    machine.sessionChanged('u2');
    expect(machine.snapshot.state).toBe('syncing');
    machine.failed(new SyncError('auth', '401'));
    expect(machine.snapshot.state).toBe('error');
    // Sync resumed (a new token) and a request went through: the token works again.
    machine.succeeded();
    expect(machine.snapshot.state).toBe('syncing');
  });

  it('never says synced with lastSyncedAt null: a pull that ended with writes pending is not a sync', () => {
    const { machine } = setup();
    machine.sessionChanged('u1');
    machine.counts(1, 0, 0);
    machine.caughtUp(5, false);
    machine.counts(0, 0, 0);
    expect(machine.snapshot).toMatchObject({ state: 'syncing', lastSyncedAt: null });
    machine.pushedAll(9);
    expect(machine.snapshot).toMatchObject({ state: 'synced', lastSyncedAt: 9 });
  });

  it('never emits the same status twice in a row, even when a read committed a state in between', async () => {
    const { machine, events } = setup();
    machine.sessionChanged('u1');
    machine.caughtUp(1, true);
    await tick();
    machine.counts(1, 0, 0);
    expect(machine.snapshot.state).toBe('syncing'); // a read (React) commits early
    machine.counts(0, 0, 0);
    await tick();
    const shown = events.map((e) => `${e.state}/${e.pending}`);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).not.toBe(shown[i - 1]);
    expect(shown.at(-1)).toBe('synced/0');
  });

  it('is syncing while something is pending and counts it', () => {
    const { machine } = setup();
    machine.sessionChanged('u1');
    machine.caughtUp(5, true);
    machine.counts(2, 1, 3);
    expect(machine.snapshot).toMatchObject({
      state: 'syncing',
      pending: 2,
      conflicts: 1,
      rejected: 3,
    });
  });

  it('emits once per burst and keeps the same object when nothing changed', async () => {
    const { machine, events } = setup();
    machine.sessionChanged('u1');
    for (let i = 1; i <= 100; i++) machine.counts(i, 0, 0);
    await tick();
    expect(events).toHaveLength(1);
    expect(events[0]?.pending).toBe(100);
    const snap = machine.snapshot;
    machine.counts(100, 0, 0);
    machine.connectivity(true);
    await tick();
    expect(machine.snapshot).toBe(snap);
    expect(events).toHaveLength(1);
  });
});

describe('StatusMachine in a notification batch', () => {
  it('commits in the batch, before subscribers are woken, without knowing the notifier', async () => {
    const order: string[] = [];
    const emitter = new Emitter<SyncEvents>();
    emitter.on('status', (s) => order.push(`status ${s.state}`));
    const notifier = new Notifier(emitter);
    const machine = new StatusMachine(emitter, notifier);
    notifier.subscribe(() => order.push(`subscriber sees ${machine.snapshot.state}`));
    machine.sessionChanged('u1');
    await Promise.resolve();
    expect(order).toEqual(['status syncing', 'subscriber sees syncing']);
  });

  it('emits a change made while nobody listened once someone listens', async () => {
    const { emitter, events, listenNow } = statusEvents(false);
    const machine = new StatusMachine(emitter, new Notifier(emitter));
    machine.sessionChanged('u1');
    await Promise.resolve();
    expect(events).toEqual([]);
    listenNow();
    machine.listenersChanged();
    await Promise.resolve();
    expect(events.map((e) => e.state)).toEqual(['syncing']);
  });
});
