import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';

interface Events {
  ping: (n: number) => void;
  other: () => void;
}

describe('Emitter', () => {
  it('calls listeners in order, once only once, and stops after off', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const a = (n: number) => calls.push(`a${n}`);
    emitter.on('ping', a);
    emitter.once('ping', (n) => calls.push(`once${n}`));
    emitter.on('ping', (n) => calls.push(`b${n}`));
    expect(emitter.emit('ping', 1)).toBe(true);
    expect(emitter.emit('ping', 2)).toBe(true);
    emitter.off('ping', a);
    emitter.emit('ping', 3);
    expect(calls).toEqual(['a1', 'once1', 'b1', 'a2', 'b2', 'b3']);
    expect(emitter.listenerCount('ping')).toBe(1);
    expect(emitter.emit('other')).toBe(false);
  });

  it('a listener added or removed during an emit takes effect from the next one', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const late = () => calls.push('late');
    const second = () => calls.push('second');
    emitter.on('other', () => {
      calls.push('first');
      emitter.on('other', late);
      emitter.off('other', second);
    });
    emitter.on('other', second);
    emitter.emit('other');
    emitter.emit('other');
    expect(calls).toEqual(['first', 'second', 'first', 'late']);
    expect(emitter.listenerCount('other')).toBe(3);
  });

  it('an error thrown by a listener reaches the caller of emit', () => {
    const emitter = new Emitter<Events>();
    emitter.on('other', () => {
      throw new Error('boom');
    });
    expect(() => emitter.emit('other')).toThrow('boom');
  });
});
