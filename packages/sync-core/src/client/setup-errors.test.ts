import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSyncClient } from './sync-client.js';
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
