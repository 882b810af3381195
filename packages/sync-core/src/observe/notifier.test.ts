import { describe, expect, it } from 'vitest';
import type { SyncEvents } from '../api/events.js';
import { Emitter } from './emitter.js';
import { Notifier } from './notifier.js';

/** A notifier over a real emitter whose `change` events go to `onChange`. */
function notifierWith(onChange: (collection: string, ids: string[]) => void) {
  const events = new Emitter<SyncEvents>();
  const listener = ({ collection, ids }: { collection: string; ids: string[] }) =>
    onChange(collection, ids);
  events.on('change', listener);
  return { notifier: new Notifier(events), events, listener };
}

describe('Notifier', () => {
  it('delivers one change per collection and one subscriber call per batch', async () => {
    const changes: Array<[string, string[]]> = [];
    const { notifier } = notifierWith((collection, ids) => changes.push([collection, ids]));
    let calls = 0;
    const unsubscribe = notifier.subscribe(() => calls++);
    for (let i = 0; i < 1000; i++) notifier.changed('todos', `t${i}`);
    notifier.changed('notes', 'n1');
    notifier.changed('todos', 't1');
    await Promise.resolve();
    expect(changes.map(([c, ids]) => [c, ids.length])).toEqual([
      ['todos', 1000],
      ['notes', 1],
    ]);
    expect(calls).toBe(1);
    notifier.changed('todos', 'x');
    await Promise.resolve();
    expect(changes[2]).toEqual(['todos', ['x']]);
    expect(calls).toBe(2);
    unsubscribe();
    notifier.touch();
    await Promise.resolve();
    expect(calls).toBe(2);
  });

  it('collects no ids while nobody wants them, and still wakes subscribers', async () => {
    const changes: Array<[string, string[]]> = [];
    const { notifier, events, listener } = notifierWith((collection, ids) =>
      changes.push([collection, ids]),
    );
    events.off('change', listener);
    let calls = 0;
    notifier.subscribe(() => calls++);
    notifier.changed('todos', 'unseen');
    await Promise.resolve();
    expect(changes).toEqual([]);
    expect(calls).toBe(1);
    events.on('change', listener);
    notifier.changed('todos', 'seen');
    await Promise.resolve();
    // The id changed while nobody listened is not delivered later either.
    expect(changes).toEqual([['todos', ['seen']]]);
    expect(calls).toBe(2);
  });

  it('runs a deferred step once per batch, before change events and subscribers', async () => {
    const order: string[] = [];
    const { notifier } = notifierWith((collection) => order.push(`change ${collection}`));
    notifier.subscribe(() => order.push('subscriber'));
    const step = () => order.push('step');
    notifier.changed('todos', 't1');
    notifier.defer(step);
    notifier.defer(step);
    await Promise.resolve();
    expect(order).toEqual(['step', 'change todos', 'subscriber']);
    notifier.touch();
    await Promise.resolve();
    expect(order.slice(3)).toEqual(['subscriber']);
  });
});
