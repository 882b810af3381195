import { createSessionSource, createSyncClient, memoryStorage } from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import { describe, expect, it } from 'vitest';
import { restTransport } from '../src/index.js';
import { restTargeting } from '../src/targeting.js';

const options = {
  baseUrl: 'http://127.0.0.1:9',
  getToken: () => 't',
  session: createSessionSource({ userId: 'u', sessionId: 's' }),
  realtime: false as const,
};

describe('restTransport session targeting is opt-in', () => {
  it('without restTargeting() the transport has no session endpoints', () => {
    const transport = restTransport(options);
    expect(transport.sessions).toBeUndefined();
    expect(transport.deliveries).toBeUndefined();
    expect(transport.assets).toBeUndefined();
    expect(transport.transfers).toBeUndefined();
    expect(transport.sessionEvents).toBeUndefined();
  });

  it('with restTargeting() it speaks the four session endpoints and their event hints', () => {
    const transport = restTransport({ ...options, targeting: restTargeting() });
    expect(typeof transport.sessions?.list).toBe('function');
    expect(typeof transport.deliveries?.send).toBe('function');
    expect(typeof transport.assets?.probe).toBe('function');
    expect(typeof transport.transfers).toBe('object');
    expect(typeof transport.sessionEvents).toBe('function');
  });

  it('a targeting client over a transport without restTargeting() says what to pass', async () => {
    const client = createSyncClient({
      transport: restTransport(options),
      storage: memoryStorage(),
      targeting: sessionTargeting(),
    });
    await client.start();
    const missing = {
      kind: 'invalid',
      code: 'targeting_not_enabled',
      message: expect.stringContaining('targeting: restTargeting()'),
    };
    await expect(client.sessions.list()).rejects.toMatchObject(missing);
    await expect(client.deliveries.send({ kind: 'k' })).rejects.toMatchObject(missing);
    await expect(
      client.assets.request('a'.repeat(64), { from: 'u2', scope: 'workspace:1' }),
    ).rejects.toMatchObject(missing);
    await expect(client.assets.send(new Uint8Array(1))).rejects.toMatchObject(missing);
    await client.stop();
  });
});
