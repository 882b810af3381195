/**
 * The asset requests of `restTransport` against a plain Node HTTP server (the wire, not the
 * reference server's rules): how a chunk's bytes go out (a stream with its length on Node, so
 * undici does not copy them; bytes with a custom fetch), and that a long-lived signal, such as
 * a signed-in session's, does not collect an abort listener per request.
 */
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessionSource } from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restTransport } from '../src/index.js';
import { restTargeting } from '../src/targeting.js';

const SHA = 'a'.repeat(64);
const SIZE = 256 * 1024;

interface Seen {
  headers: IncomingMessage['headers'];
  bytes: number;
}

let server: Server;
let url: string;
const seen: Seen[] = [];
/** Called for a GET instead of answering at once (a stalled download). */
let stall: ((res: import('node:http').ServerResponse) => void) | undefined;
/** `GET /v1/info` requests answered. */
let infoRequests = 0;
/** How many of the next `GET /v1/info` requests fail (503). */
let infoFailures = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v1/info') {
      infoRequests += 1;
      if (infoFailures > 0) {
        infoFailures -= 1;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'unavailable', message: 'not now' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          protocol: 1,
          limits: { maxBodyBytes: 1 << 20, maxRecordBytes: 1 << 18 },
          features: { assetUploadsById: true },
        }),
      );
      return;
    }
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      seen.push({ headers: req.headers, bytes });
      if (req.method === 'PUT') {
        res.writeHead(308, { 'upload-offset': String(bytes) });
        res.end();
      } else if (req.method === 'HEAD') {
        res.writeHead(200, { 'upload-offset': '0', 'upload-length': String(SIZE) });
        res.end();
      } else if (stall !== undefined) {
        stall(res);
      } else {
        res.writeHead(206, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(SIZE, 7));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function assets(options: { fetch?: typeof fetch; streamUploads?: boolean } = {}) {
  const part = targetingTransport(options).assets;
  if (part === undefined) throw new Error('no assets part');
  return part;
}

function targetingTransport(options: { fetch?: typeof fetch; streamUploads?: boolean } = {}) {
  return restTransport({
    baseUrl: url,
    getToken: () => 'token',
    session: createSessionSource({ userId: 'u', sessionId: 's' }),
    realtime: false,
    targeting: restTargeting(),
    ...options,
  });
}

const chunk = new Uint8Array(SIZE).fill(3);
const upload = (part: ReturnType<typeof assets>, signal?: AbortSignal) =>
  part.uploadChunk({ sha256: SHA, offset: 0, totalSize: SIZE * 2, chunk }, signal);

describe('asset chunk bodies', () => {
  it('go out whole with their Content-Length (a stream on Node, not chunked)', async () => {
    seen.length = 0;
    await upload(assets());
    expect(seen[0]?.bytes).toBe(SIZE);
    expect(seen[0]?.headers['content-length']).toBe(String(SIZE));
    expect(seen[0]?.headers['transfer-encoding']).toBeUndefined();
    expect(seen[0]?.headers['content-range']).toBe(`bytes 0-${SIZE - 1}/${SIZE * 2}`);
    expect(seen[0]?.headers['content-type']).toBe('application/octet-stream');
  });

  it('are handed to a custom fetch as bytes, or as a stream when asked', async () => {
    const bodies: unknown[] = [];
    const recording: typeof fetch = (input, init) => {
      bodies.push(init?.body);
      return fetch(input, init);
    };
    await upload(assets({ fetch: recording }));
    await upload(assets({ fetch: recording, streamUploads: true }));
    expect(bodies[0]).toBeInstanceOf(Uint8Array);
    expect(bodies[1]).toBeInstanceOf(ReadableStream);
    expect(seen.at(-1)?.bytes).toBe(SIZE);
    expect(seen.at(-2)?.headers['content-type']).toBe('application/octet-stream');
  });
});

describe('a long-lived signal', () => {
  it('holds no abort listener once uploads, probes and downloads are done', async () => {
    const part = assets();
    const session = new AbortController();
    for (let i = 0; i < 12; i++) {
      await upload(part, session.signal);
      await part.probe?.(SHA, session.signal);
      const stream = await part.downloadStream?.(
        { sha256: SHA, start: 0, end: SIZE },
        session.signal,
      );
      const reader = (stream as ReadableStream<Uint8Array>).getReader();
      let got = 0;
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        got += next.value.length;
      }
      expect(got).toBe(SIZE);
    }
    // A download cancelled half-way lets go too.
    const stream = await part.downloadStream?.(
      { sha256: SHA, start: 0, end: SIZE },
      session.signal,
    );
    await stream?.cancel();
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
  });

  it('still ends a download stream whose bytes stopped coming', async () => {
    stall = (res) => {
      res.writeHead(206, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 1)); // then nothing more
    };
    try {
      const part = assets();
      const session = new AbortController();
      const stream = await part.downloadStream?.(
        { sha256: SHA, start: 0, end: SIZE },
        session.signal,
      );
      const reader = (stream as ReadableStream<Uint8Array>).getReader();
      expect((await reader.read()).value?.length).toBe(1024);
      const pending = reader.read();
      session.abort();
      await expect(pending).rejects.toBeDefined();
      expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
    } finally {
      stall = undefined;
    }
  });
});

describe('the server info', () => {
  it('is asked once for the limits and the asset feature read (the answer is shared)', async () => {
    infoRequests = 0;
    const transport = targetingTransport();
    const info = await transport.info?.();
    expect(info?.features).toEqual({ assetUploadsById: true });
    expect(await transport.assets?.uploadsById?.()).toBe(true);
    expect(await transport.assets?.uploadsById?.()).toBe(true);
    expect(infoRequests).toBe(1);
  });

  it('shares a request still in flight, and a transport that never asked asks once', async () => {
    infoRequests = 0;
    const transport = targetingTransport();
    const [info, byId] = await Promise.all([transport.info?.(), transport.assets?.uploadsById?.()]);
    expect(info?.limits.maxRecordBytes).toBe(1 << 18);
    expect(byId).toBe(true);
    expect(infoRequests).toBe(1);
    const other = targetingTransport();
    expect(await other.assets?.uploadsById?.()).toBe(true);
    expect(infoRequests).toBe(2);
  });

  it('a failed answer is not kept: the feature read asks again', async () => {
    infoRequests = 0;
    infoFailures = 1;
    const transport = targetingTransport();
    await expect(transport.info?.()).rejects.toMatchObject({ status: 503 });
    expect(await transport.assets?.uploadsById?.()).toBe(true);
    expect(await transport.assets?.uploadsById?.()).toBe(true);
    expect(infoRequests).toBe(2);
  });
});
