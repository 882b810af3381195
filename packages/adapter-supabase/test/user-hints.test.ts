/**
 * The per-user hint channel's handling of what arrives (the join and its authorisation run
 * against the Realtime stand-in in `transfers.suite.ts`): the topic is the signed-in user's, a
 * hint becomes a session event, a malformed one is reported and dropped, nothing is heard after
 * leaving, and no channel is joined before a session exists.
 */
import type { AuthSession, SessionEvent, SessionSource, SyncError } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';
import type { RealtimeChannelLike } from '../src/index.js';
import { subscribeToUserHints } from '../src/user-hints.js';

type Handler = (message: { event?: string; payload?: unknown }) => void;

function fakeRealtime() {
  const joined: Array<{ topic: string; private: boolean | undefined }> = [];
  const handlers = new Map<string, Handler>();
  const removed: RealtimeChannelLike[] = [];
  const channel: RealtimeChannelLike = {
    on(_type, filter, callback) {
      handlers.set(filter.event, callback);
      return channel;
    },
    subscribe(callback) {
      callback?.('SUBSCRIBED');
      return channel;
    },
  };
  const client = {
    realtime: { setAuth: async () => undefined },
    channel(topic: string, options?: { config?: { private?: boolean } }) {
      joined.push({ topic, private: options?.config?.private });
      return channel;
    },
    removeChannel: async (c: RealtimeChannelLike) => {
      removed.push(c);
      return 'ok';
    },
  };
  return { client, joined, handlers, removed };
}

function manualSession(initial: AuthSession | null) {
  let current = initial;
  const listeners = new Set<(s: AuthSession | null) => void>();
  const source: SessionSource & { set(s: AuthSession | null): void } = {
    current: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      current = next;
      for (const listener of [...listeners]) listener(next);
    },
  };
  return source;
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('subscribeToUserHints', () => {
  it("joins the signed-in user's private channel and turns hints into session events", async () => {
    const realtime = fakeRealtime();
    const events: SessionEvent[] = [];
    const errors: SyncError[] = [];
    let connects = 0;
    const leave = subscribeToUserHints({
      client: realtime.client,
      session: manualSession({ userId: 'u-1', sessionId: 's-1' }),
      listener: (event) => events.push(event),
      onConnect: () => connects++,
      onError: (error) => errors.push(error),
    });
    await flush();
    expect(realtime.joined).toEqual([{ topic: 'syncline-user:u-1', private: true }]);
    expect(connects).toBe(1);
    realtime.handlers.get('transfer')?.({ payload: { id: 't-1' } });
    realtime.handlers.get('delivery')?.({ payload: { id: 'd-1' } });
    realtime.handlers.get('transfer')?.({ payload: { id: 42 } });
    realtime.handlers.get('session')?.({ payload: {} });
    expect(events).toEqual([
      { type: 'transfer', id: 't-1' },
      { type: 'delivery', id: 'd-1' },
      { type: 'session' },
    ]);
    expect(errors.map((e) => [e.kind, e.message])).toEqual([
      ['server', 'a malformed transfer hint arrived'],
    ]);
    leave();
    expect(realtime.removed).toHaveLength(1);
    realtime.handlers.get('transfer')?.({ payload: { id: 't-2' } });
    realtime.handlers.get('session')?.({ payload: {} });
    expect(events).toHaveLength(3);
  });

  it('waits for a session before joining (a join without a token is refused)', async () => {
    const realtime = fakeRealtime();
    const session = manualSession(null);
    subscribeToUserHints({
      client: realtime.client,
      session,
      listener: () => undefined,
      onConnect: undefined,
      onError: () => undefined,
    });
    await flush();
    expect(realtime.joined).toEqual([]);
    session.set({ userId: 'u-2', sessionId: 's-2' });
    await flush();
    expect(realtime.joined.map((j) => j.topic)).toEqual(['syncline-user:u-2']);
  });
});
