/**
 * Records too large for the server, against the real server on PGlite over loopback: the
 * server answers an oversize body with 413 and its limits (never a dropped connection), tells
 * its limits at `GET /v1/info`, and the client refuses an oversize write at `put`; a write
 * queued before the client knew is rejected with a clear error and does not block the ones
 * behind it.
 */
import {
  createSessionSource,
  createSyncClient,
  type DeadLetter,
  isSyncError,
  memoryStorage,
  type SyncClient,
  type SyncError,
} from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSignIn, restTransport } from '../src/index.js';
import { pushRequest, putMutation } from './support/fixtures.js';
import { startServer, type TestServer } from './support/real-server.js';

const MAX_BODY = 1024 * 1024;
const MAX_RECORD = MAX_BODY - 16 * 1024;

/** Record data of about `bytes` bytes of JSON, in strings under the 256 Ki-character limit. */
function sized(bytes: number): Record<string, string> {
  const data: Record<string, string> = {};
  for (let i = 0; bytes > 0; i++) {
    const length = Math.min(bytes, 200_000);
    data[`part${i}`] = 'x'.repeat(length);
    bytes -= length + 14; // "partN":"...", roughly
  }
  return data;
}

describe('records too large for the server', () => {
  let server: TestServer;
  const clients: SyncClient[] = [];

  beforeAll(async () => {
    server = await startServer({ kind: 'pglite' });
  });
  afterAll(async () => {
    for (const client of clients) await client.stop();
    await server?.close();
  });

  async function signedIn(options: { withInfo?: boolean } = {}) {
    const signIn = await devSignIn({
      baseUrl: server.url,
      userId: `u${Math.random().toString(36).slice(2, 10)}`,
    });
    const session = createSessionSource({ userId: signIn.userId, sessionId: signIn.sessionId });
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => signIn.token,
      session,
      realtime: false,
    });
    // An older server has no /v1/info: the client learns the limits from the first 413.
    if (options.withInfo === false) delete transport.info;
    return { signIn, transport };
  }

  it('GET /v1/info answers the limits', async () => {
    const { transport } = await signedIn();
    const info = await transport.info?.();
    expect(info).toEqual({
      protocol: 1,
      limits: {
        maxBodyBytes: MAX_BODY,
        maxRecordBytes: MAX_RECORD,
        maxMutationsPerPush: 500,
        maxPullLimit: 10_000,
      },
      features: { assetUploadsById: true },
    });
  });

  it('a new client downloads in pages of 5000 (within the server maxPullLimit); a catch-up in pages of 1000', async () => {
    const writer = await signedIn();
    const scope = `user:${writer.signIn.userId}`;
    const ids = Array.from({ length: 1200 }, (_, i) => `r${i}`);
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500).map((id) => putMutation(scope, id, { id }));
      await writer.transport.push(pushRequest(batch, writer.signIn.sessionId));
    }
    const limits: string[] = [];
    const session = createSessionSource({
      userId: writer.signIn.userId,
      sessionId: writer.signIn.sessionId,
    });
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => writer.signIn.token,
      session,
      realtime: false,
      fetch: (input, init) => {
        const url = new URL(String(input));
        if (url.pathname === '/v1/pull') limits.push(url.searchParams.get('limit') ?? '');
        return globalThis.fetch(input, init);
      },
    });
    const client = createSyncClient({ transport, storage: memoryStorage() });
    clients.push(client);
    await client.start();
    await client.syncNow();
    expect(client.query('todos')).toHaveLength(1200);
    expect(limits[0]).toBe('5000');
    await writer.transport.push(
      pushRequest([putMutation(scope, 'later', { id: 'later' })], writer.signIn.sessionId),
    );
    limits.length = 0;
    await client.syncNow();
    expect(limits).toEqual(['1000']);
  });

  it('an oversize push body is a 413 too_large with the limits, not a dropped connection', async () => {
    const { signIn, transport } = await signedIn();
    const big = putMutation(`user:${signIn.userId}`, 'big', sized(MAX_BODY + 1000));
    let error: SyncError | undefined;
    try {
      await transport.push(pushRequest([big], signIn.sessionId));
    } catch (caught) {
      if (isSyncError(caught)) error = caught;
    }
    expect(error).toMatchObject({
      kind: 'rejected',
      status: 413,
      code: 'too_large',
      details: { maxBodyBytes: MAX_BODY, maxRecordBytes: MAX_RECORD },
    });
  });

  it('a record within the body limit but over maxRecordBytes is rejected alone, as too_large', async () => {
    const { signIn, transport } = await signedIn();
    const scope = `user:${signIn.userId}`;
    const answer = await transport.push(
      pushRequest(
        [
          putMutation(scope, 'big', sized(MAX_RECORD + 100)),
          putMutation(scope, 'small', { title: 'ok' }),
        ],
        signIn.sessionId,
      ),
    );
    expect(answer.results.map((result) => result.status)).toEqual(['rejected', 'applied']);
    expect(answer.results[0]).toMatchObject({ code: 'too_large' });
  });

  it('the client refuses an oversize write at put, with a typed error, and queues nothing', async () => {
    const { transport } = await signedIn();
    const client = createSyncClient({ transport, storage: memoryStorage() });
    clients.push(client);
    await client.start();
    await client.syncNow();
    let error: unknown;
    try {
      await client.put('files', 'f', sized(MAX_RECORD + 100));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      name: 'SyncError',
      kind: 'invalid',
      code: 'too_large',
      details: { maxRecordBytes: MAX_RECORD },
    });
    expect(client.get('files', 'f')).toBeUndefined();
    expect(client.status.pending).toBe(0);
    await client.put('files', 'g', { blob: 'x'.repeat(1000) });
    expect((await client.syncNow()).outcome).toBe('settled');
  });

  it('an oversize write queued before the client knew is rejected and rolled back; later writes go through', async () => {
    const { transport } = await signedIn({ withInfo: false });
    const client = createSyncClient({ transport, storage: memoryStorage() });
    clients.push(client);
    const rejected: DeadLetter[] = [];
    client.on('rejected', (letter) => rejected.push(letter));
    await client.start();
    await client.put('files', 'big', sized(MAX_BODY + 100));
    await client.put('files', 'small', { title: 'after it' });
    const result = await client.syncNow({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ outcome: 'settled', pending: 0 });
    expect(rejected.map((letter) => [letter.mutation.recordId, letter.code])).toEqual([
      ['big', 'too_large'],
    ]);
    expect(client.get('files', 'big')).toBeUndefined();
    expect(client.get('files', 'small')).toEqual({ title: 'after it' });
    // Learnt from the 413: the next oversize write is refused at put.
    expect(() => client.put('files', 'again', sized(MAX_BODY + 100))).toThrow(/maxRecordBytes/);
  });
});
