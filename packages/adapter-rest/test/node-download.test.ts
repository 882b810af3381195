/**
 * Asset downloads over `node:http` (`restTargeting({ nodeDownloads })`, on by default where
 * the fetch is Node's own): which requests take that way, and that it keeps what `fetch` gave
 * the client: the token and its refresh, errors with their status, a redirect followed, and a
 * body cut short failing the stream instead of ending it. Against a plain Node HTTP server.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessionSource, isSyncError } from '@syncline/sync-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { restTransport } from '../src/index.js';
import { restTargeting } from '../src/targeting.js';

const SHA = 'b'.repeat(64);
const SIZE = 3 * 1024 * 1024 + 17;
const BYTES = new Uint8Array(SIZE).map((_, i) => (i * 31) % 251);

let server: Server;
let url: string;
/** Answers a GET; the default sends the asked range of BYTES. */
let answer: (req: IncomingMessage, res: ServerResponse) => void;
const gets: IncomingMessage['headers'][] = [];

function sendRange(req: IncomingMessage, res: ServerResponse) {
  const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '') ?? [];
  const start = Number(from ?? 0);
  const end = to === undefined ? SIZE : Number(to) + 1;
  res.writeHead(206, { 'content-length': String(end - start) });
  res.end(BYTES.subarray(start, end));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'GET') gets.push(req.headers);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  answer = sendRange;
  gets.length = 0;
  vi.unstubAllGlobals();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

answer = sendRange;

function assets(
  options: {
    fetch?: typeof fetch;
    getToken?: Parameters<typeof restTransport>[0]['getToken'];
  } = {},
  nodeDownloads?: boolean,
) {
  const transport = restTransport({
    baseUrl: url,
    getToken: () => 'token',
    session: createSessionSource({ userId: 'u', sessionId: 's' }),
    realtime: false,
    targeting: restTargeting(nodeDownloads === undefined ? {} : { nodeDownloads }),
    ...options,
  });
  if (transport.assets?.downloadStream === undefined) throw new Error('no downloadStream');
  return transport.assets as Required<NonNullable<typeof transport.assets>>;
}

/** Reads a download of `[start, SIZE)` whole; returns its SHA-256 and length. */
async function download(part: ReturnType<typeof assets>, start = 0) {
  const stream = await part.downloadStream({ sha256: SHA, start, end: SIZE });
  const hash = createHash('sha256');
  let length = 0;
  for await (const piece of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(piece);
    length += piece.length;
  }
  return { sha: hash.digest('hex'), length };
}

const shaOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The global fetch, recording the methods it is asked for. */
function recordGlobalFetch(): string[] {
  const methods: string[] = [];
  const original = globalThis.fetch;
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
    methods.push(init?.method ?? 'GET');
    return original(input, init);
  });
  return methods;
}

describe('which downloads go over node:http', () => {
  it('on Node with the global fetch: the download does not go through fetch', async () => {
    const methods = recordGlobalFetch();
    const part = assets();
    expect(await download(part, 5)).toEqual({ sha: shaOf(BYTES.subarray(5)), length: SIZE - 5 });
    await part.probe(SHA).catch(() => undefined);
    expect(methods).toEqual(['HEAD']); // the probe still uses fetch
    expect(gets[0]?.authorization).toBe('Bearer token');
    expect(gets[0]?.range).toBe(`bytes=5-${SIZE - 1}`);
  });

  it("an app's own fetch, or nodeDownloads: false, keeps downloads on fetch", async () => {
    const methods: string[] = [];
    const own: typeof fetch = (input, init) => {
      methods.push(init?.method ?? 'GET');
      return fetch(input, init);
    };
    expect((await download(assets({ fetch: own }))).sha).toBe(shaOf(BYTES));
    expect(methods).toEqual(['GET']);
    const global = recordGlobalFetch();
    expect((await download(assets({}, false))).sha).toBe(shaOf(BYTES));
    expect(global).toEqual(['GET']);
  });
});

describe('a download over node:http', () => {
  it('refreshes the token once after a 401 and gets the bytes', async () => {
    answer = (req, res) => {
      if (req.headers.authorization === 'Bearer fresh') return sendRange(req, res);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'token expired' } }));
    };
    const calls: boolean[] = [];
    const part = assets({
      getToken: ({ forceRefresh }) => {
        calls.push(forceRefresh);
        return forceRefresh ? 'fresh' : 'expired';
      },
    });
    expect((await download(part)).sha).toBe(shaOf(BYTES));
    expect(calls).toEqual([false, true]);
  });

  it('fails with the status and message of an error answer', async () => {
    answer = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'forbidden', message: 'not a target' } }));
    };
    const error = await download(assets()).catch((e: unknown) => e);
    expect(isSyncError(error)).toBe(true);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', message: 'not a target' });
  });

  it('follows a redirect (through fetch)', async () => {
    answer = (req, res) => {
      if (req.url?.startsWith('/moved/')) return sendRange(req, res);
      res.writeHead(307, { location: `/moved${req.url}` });
      res.end();
    };
    expect((await download(assets())).sha).toBe(shaOf(BYTES));
  });

  it('fails, instead of ending early, when the connection closes before the body ends', async () => {
    answer = (_req, res) => {
      res.writeHead(206, { 'content-length': String(SIZE) });
      res.write(BYTES.subarray(0, 1000), () => res.destroy());
    };
    await expect(download(assets())).rejects.toBeDefined();
  });
});
