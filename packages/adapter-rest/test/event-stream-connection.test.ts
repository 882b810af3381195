/**
 * The event stream over a real socket (no msw): a stream the client is done with, unsubscribed
 * or gone idle, is closed at the server, not left open beside its replacement.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { restTransport } from '../src/index.js';

// Outcomes, not timings: generous so a loaded CI machine does not turn slowness into failure.
const EVENTUALLY = { timeout: 5000, interval: 10 };

let server: Server;
let url = '';
let opened = 0;
const closed: number[] = [];
// Whether the server writes a first comment after the headers (else it sends nothing more).
let greet = true;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  server = createServer((_request, response) => {
    const n = opened++;
    response.on('close', () => closed.push(n));
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    if (greet) response.write(': open\n\n');
    else response.flushHeaders();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  opened = 0;
  closed.length = 0;
  greet = true;
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function subscribe(idleTimeoutMs?: number) {
  let connects = 0;
  const transport = restTransport({
    baseUrl: url,
    getToken: () => null,
    reconnect: { baseDelayMs: 1, maxDelayMs: 5 },
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
  });
  const unsubscribe = transport.subscribe!({
    scopes: ['user:1'],
    onPoke: () => undefined,
    onConnect: () => connects++,
  });
  cleanups.push(unsubscribe);
  return { connects: () => connects, unsubscribe };
}

describe('event stream connections', () => {
  it('are closed at the server on unsubscribe', async () => {
    const sub = subscribe();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    sub.unsubscribe();
    await vi.waitFor(() => expect(closed).toEqual([0]), EVENTUALLY);
    expect(opened).toBe(1);
  });

  it('are closed at the server on an unsubscribe from onConnect, before any byte came', async () => {
    greet = false;
    const transport = restTransport({ baseUrl: url, getToken: () => null });
    // Called back asynchronously, once the stream is accepted: `unsubscribe` is set by then.
    const unsubscribe: () => void = transport.subscribe!({
      scopes: ['user:1'],
      onPoke: () => undefined,
      onConnect: () => unsubscribe(),
    });
    cleanups.push(unsubscribe);
    await vi.waitFor(() => expect(closed).toEqual([0]), EVENTUALLY);
    expect(opened).toBe(1);
  });

  it('are closed at the server when they go idle and are replaced', async () => {
    const sub = subscribe(50);
    await vi.waitFor(() => expect(sub.connects()).toBeGreaterThanOrEqual(3), EVENTUALLY);
    await vi.waitFor(() => expect(closed).toEqual(expect.arrayContaining([0, 1])), EVENTUALLY);
    sub.unsubscribe();
  });
});
