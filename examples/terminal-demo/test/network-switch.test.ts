/**
 * The demo's "offline" device really is offline: turning its network off also cuts the
 * connections already open (the event stream), not only new requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkSwitch } from '../lib/network-switch.mjs';

describe('the demo network switch', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    // An endless event stream, like /v1/events.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('closes an open stream when the network goes off, and refuses new requests', async () => {
    const network = createNetworkSwitch({ name: 'laptop' });
    const response = await network.fetch(url);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream is open and delivering
    network.set(false);
    await expect(reader.read()).rejects.toThrow(/offline/);
    await expect(network.fetch(url)).rejects.toThrow(/offline/);
    network.set(true);
    const again = await network.fetch(url);
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});
