import { describe, expect, it } from 'vitest';
import { Notifier } from './notifier.js';

describe('Notifier', () => {
  it('delivers one change per collection and one subscriber call per batch', async () => {
    const changes: Array<[string, string[]]> = [];
    const notifier = new Notifier({
      onChange: (collection, ids) => changes.push([collection, ids]),
      wantsChanges: () => true,
    });
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
    let wanted = false;
    const notifier = new Notifier({
      onChange: (collection, ids) => changes.push([collection, ids]),
      wantsChanges: () => wanted,
    });
    let calls = 0;
    notifier.subscribe(() => calls++);
    notifier.changed('todos', 'unseen');
    await Promise.resolve();
    expect(changes).toEqual([]);
    expect(calls).toBe(1);
    wanted = true;
    notifier.changed('todos', 'seen');
    await Promise.resolve();
    // The id changed while nobody listened is not delivered later either.
    expect(changes).toEqual([['todos', ['seen']]]);
    expect(calls).toBe(2);
  });

  it('runs a deferred step once per batch, before change events and subscribers', async () => {
    const order: string[] = [];
    const notifier = new Notifier({
      onChange: (collection) => order.push(`change ${collection}`),
      wantsChanges: () => true,
    });
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
