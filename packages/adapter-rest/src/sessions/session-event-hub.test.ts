import type { SessionEvent } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';
import { SessionEventHub } from './session-parts.js';

const ID = '018bcfe5-6800-7000-8000-000000000001';
const delivery = {
  id: ID,
  scope: 'user:u1',
  kind: 'note',
  payload: { text: 'hi' },
  originSessionId: 's1',
  target: { type: 'otherSessions' },
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_100_000,
};

function heard(data: unknown): SessionEvent[] {
  const hub = new SessionEventHub();
  const events: SessionEvent[] = [];
  hub.add((event) => events.push(event));
  hub.event({ event: 'delivery', data: JSON.stringify(data), lastEventId: '' });
  return events;
}

describe('the delivery hint', () => {
  it('passes on the delivery it carries, checked', () => {
    expect(heard({ id: ID, delivery })).toEqual([{ type: 'delivery', id: ID, delivery }]);
  });

  it('stays a bare hint when the delivery is malformed or is another one', () => {
    expect(heard({ id: ID, delivery: { ...delivery, createdAt: 'soon' } })).toEqual([
      { type: 'delivery', id: ID },
    ]);
    expect(heard({ id: ID, delivery: { ...delivery, id: `${ID.slice(0, -1)}2` } })).toEqual([
      { type: 'delivery', id: ID },
    ]);
    expect(heard({ id: ID })).toEqual([{ type: 'delivery', id: ID }]);
    expect(heard({ delivery })).toEqual([]);
  });
});
