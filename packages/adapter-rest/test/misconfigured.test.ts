/**
 * A transport pointed at the wrong place (a wrong `baseUrl` path against the real server, an
 * endpoint that answers HTML) is a setup mistake: nothing is rolled back or dead-lettered, the
 * outbox waits, the status says `misconfigured`, and a corrected setup resumes. Real server on
 * PGlite, real HTTP over loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSessionSource,
  createSyncClient,
  type DeadLetter,
  memoryStorage,
  type SyncClient,
} from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devSignIn, restTransport } from '../src/index.js';
import { startServer, type TestServer } from './support/real-server.js';

const EVENTUALLY = { timeout: 15_000, interval: 20 };

/** An HTTP endpoint that answers every request with a web page until told to proxy. */
interface SwitchableEndpoint {
  url: string;
  mode: 'html' | 'proxy';
  close(): Promise<void>;
}

async function startHtmlEndpoint(target: string): Promise<SwitchableEndpoint> {
  const endpoint = { url: '', mode: 'html' as 'html' | 'proxy', close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (endpoint.mode === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><html><body><div id="app"></div></body></html>');
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'connection')
          headers[name] = value;
      }
      const init: RequestInit = { method: req.method ?? 'GET', headers };
      if (chunks.length > 0) init.body = Buffer.concat(chunks);
      fetch(target + (req.url ?? '/'), init)
        .then(async (answer) => {
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return endpoint;
}

describe('a transport pointed at the wrong place', () => {
  let server: TestServer;
  let html: SwitchableEndpoint;
  const clients: SyncClient[] = [];

  beforeAll(async () => {
    server = await startServer({ kind: 'pglite' });
    html = await startHtmlEndpoint(server.url);
  });
  afterAll(async () => {
    for (const client of clients) await client.stop();
    await html?.close();
    await server?.close();
  });

  async function clientAt(baseUrl: string, storage = memoryStorage(), userId?: string) {
    const signIn = await devSignIn({
      baseUrl: server.url,
      userId: userId ?? `u${Math.random().toString(36).slice(2, 10)}`,
    });
    const session = createSessionSource({ userId: signIn.userId, sessionId: signIn.sessionId });
    const transport = restTransport({
      baseUrl,
      getToken: () => signIn.token,
      session,
      realtime: false,
    });
    const client = createSyncClient({ transport, storage });
    clients.push(client);
    const rejected: DeadLetter[] = [];
    client.on('rejected', (letter) => rejected.push(letter));
    await client.start();
    return { client, rejected, signIn, storage };
  }

  async function expectWaitingWrite(client: SyncClient, rejected: DeadLetter[]) {
    await vi.waitFor(() => expect(client.status.state).toBe('error'), EVENTUALLY);
    expect(client.status.error?.kind).toBe('misconfigured');
    expect(client.get('todos', 'a')).toEqual({ title: 'kept' });
    expect(client.status.pending).toBe(1);
    expect(client.deadLetters()).toEqual([]);
    expect(rejected).toEqual([]);
  }

  it('a wrong baseUrl path (404 "no such route") keeps the write queued; the right URL sends it', async () => {
    const storage = memoryStorage();
    const first = await clientAt(`${server.url}/api`, storage);
    await first.client.put('todos', 'a', { title: 'kept' });
    await expectWaitingWrite(first.client, first.rejected);
    expect(first.client.status.error?.message).toMatch(/baseUrl/);
    // Still nothing lost after more attempts.
    await first.client.syncNow({ timeoutMs: 2000 });
    expect(first.client.deadLetters()).toEqual([]);
    expect(first.client.get('todos', 'a')).toEqual({ title: 'kept' });
    await first.client.stop();

    // The app is redeployed with the right URL: the same storage resumes and sends the write.
    const fixed = await clientAt(server.url, storage, first.signIn.userId);
    const result = await fixed.client.syncNow({ timeoutMs: 10_000 });
    expect(result.outcome).toBe('settled');
    expect(fixed.client.status.pending).toBe(0);
    const page = await restTransport({
      baseUrl: server.url,
      getToken: () => fixed.signIn.token,
    }).pull({ scope: `user:${first.signIn.userId}`, checkpoint: null });
    expect(page.changes.map((change) => [change.id, change.data])).toEqual([
      ['a', { title: 'kept' }],
    ]);
  });

  it('an endpoint answering HTML keeps the write queued; once it reaches the server, syncNow sends it', async () => {
    const { client, rejected } = await clientAt(html.url);
    await client.put('todos', 'a', { title: 'kept' });
    await expectWaitingWrite(client, rejected);
    expect(client.status.error?.message).toMatch(/not a syncline answer/);

    html.mode = 'proxy'; // the proxy is fixed
    const result = await client.syncNow({ timeoutMs: 10_000 });
    expect(result.outcome).toBe('settled');
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
    expect(client.deadLetters()).toEqual([]);
    expect(rejected).toEqual([]);
  });
});
