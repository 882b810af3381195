import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSyncClient } from './create-sync-client.js';
import { testEnvironment } from './test-support.js';

describe('mistakes in what the app writes', () => {
  it('a cyclic object is reported as a cycle, with where it closes, not as deep nesting', async () => {
    const client = createSyncClient({
      transport: createMemoryServer().connect(),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: 9100 }),
    });
    await client.start();
    const todo: Record<string, unknown> = { title: 'x', meta: { tags: [] as unknown[] } };
    ((todo.meta as Record<string, unknown>).tags as unknown[]).push(todo);
    let error: unknown;
    try {
      await client.put('todos', 'a', todo as never);
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error) && error.kind).toBe('invalid');
    expect((error as Error).message).toMatch(/cycle/);
    expect((error as Error).message).not.toMatch(/deeper/);
    expect((error as { details?: unknown }).details).toEqual({ path: '$.meta.tags[0]' });
    expect(client.status.pending).toBe(0);
  });

  it('session targeting is opt-in: without it client.sessions, deliveries and assets name the option', () => {
    const client = createSyncClient({
      transport: createMemoryServer().connect(),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: 9101 }),
    });
    for (const read of [() => client.sessions, () => client.deliveries, () => client.assets]) {
      let error: unknown;
      try {
        read();
      } catch (caught) {
        error = caught;
      }
      expect(isSyncError(error) && error.kind).toBe('invalid');
      expect(isSyncError(error) && error.code).toBe('targeting_not_enabled');
      expect((error as Error).message).toMatch(/sessionTargeting\(\)/);
    }
    const targeted = createSyncClient({
      transport: createMemoryServer().connect(),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: 9102 }),
      targeting: sessionTargeting(),
    });
    expect(targeted.sessions.current).toBeNull();
    expect(typeof targeted.deliveries.send).toBe('function');
  });
});

describe('a custom transport written against an older contract', () => {
  it('subscribe(scopes, onPoke, onConnect) in the positional form is refused at construction, saying how to fix it', () => {
    const inner = createMemoryServer().connect();
    const pokes: unknown[] = [];
    // What a transport written for syncline before subscribe took an options object looks like.
    const legacy = {
      push: inner.push.bind(inner),
      pull: inner.pull.bind(inner),
      subscribe(scopes: string[], onPoke: (poke: unknown) => void, onConnect?: () => void) {
        pokes.push(scopes, onPoke, onConnect);
        return () => {};
      },
    };
    let error: unknown;
    try {
      createSyncClient({
        transport: legacy as never,
        storage: memoryStorage(),
        environment: testEnvironment({ seed: 9102 }),
      });
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error) && error.kind).toBe('invalid');
    expect((error as Error).message).toMatch(/subscribe\(\{ scopes, onPoke, onConnect \}\)/);
    expect(pokes).toEqual([]);
  });

  it('a transport whose subscribe takes the options object is accepted and poked', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    const seen: string[] = [];
    const client = createSyncClient({
      transport: {
        push: inner.push.bind(inner),
        pull: inner.pull.bind(inner),
        session: inner.session,
        subscribe(options) {
          return inner.subscribe({
            ...options,
            onPoke: (poke) => {
              seen.push(poke.scope);
              options.onPoke(poke);
            },
          });
        },
      },
      storage: memoryStorage(),
      environment: testEnvironment({ seed: 9103 }),
    });
    await client.start();
    const writer = server.connect({ userId: 'u1' });
    await writer.push({
      clientId: 'other-device',
      sessionId: 'other-device',
      mutations: [
        {
          id: '018f2c1e-8b7a-7cde-9f01-000000000001',
          scope: 'user:u1',
          collection: 'todos',
          recordId: 'a',
          op: 'put',
          data: { title: 'from elsewhere' },
          baseRevision: 0,
          hlc: '0190a1b2c3d4:0000:other',
        },
      ],
    });
    await client.syncNow();
    expect(seen).toContain('user:u1');
    expect(client.get('todos', 'a')).toEqual({ title: 'from elsewhere' });
    await client.stop();
  });
});
