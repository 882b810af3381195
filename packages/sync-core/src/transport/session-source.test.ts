import { describe, expect, it } from 'vitest';
import { createSessionSource } from './session-source.js';

describe('createSessionSource', () => {
  it('tells listeners of real changes only, with a copy of the session', () => {
    const source = createSessionSource();
    const heard: unknown[] = [];
    source.subscribe((session) => heard.push(session));
    source.set(null); // signed out already
    const session = { userId: 'u1', sessionId: 's1' };
    source.set(session);
    source.set({ userId: 'u1', sessionId: 's1' }); // the same session
    source.set({ userId: 'u1', sessionId: 's2' }); // a new session of the same user
    source.set({ userId: 'u2', sessionId: 's2' }); // another user
    source.set(null);
    source.set(null);
    expect(heard).toEqual([
      { userId: 'u1', sessionId: 's1' },
      { userId: 'u1', sessionId: 's2' },
      { userId: 'u2', sessionId: 's2' },
      null,
    ]);
    expect(heard[0]).not.toBe(session);
  });
});
