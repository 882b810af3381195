/**
 * A loopback HTTP proxy in front of a real server that can forward a request, wait for the
 * server's complete answer (so the server has committed), and then drop that answer by
 * destroying the client's socket: the "lost response after commit" of a flaky network, which
 * no real server produces on demand.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy saw of one request. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The server's status; the client got it only when `dropped` is false. */
  status: number;
  /** The server's answer body. */
  body: string;
  dropped: boolean;
}

/** A running proxy. */
export interface DroppingProxy {
  /** Base URL of the proxy. */
  url: string;
  /** Every request forwarded so far. */
  requests: ProxiedRequest[];
  /** Drops the answer of the next `count` requests for which `match` is true. */
  dropNext(count: number, match: (method: string, path: string) => boolean): void;
  /** Cuts every open event stream (their sockets are destroyed). */
  killStreams(): void;
  /** While `true`, new event-stream requests are answered 503 without reaching the server. */
  refuseStreams(refuse: boolean): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a proxy on a free loopback port that forwards to `target`. */
export async function startDroppingProxy(target: string): Promise<DroppingProxy> {
  const requests: ProxiedRequest[] = [];
  let toDrop = 0;
  let matcher: (method: string, path: string) => boolean = () => false;
  let refusing = false;
  const openStreams = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const body = await readBody(req);
      if (refusing && path.startsWith('/v1/events')) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'unavailable', message: 'refused by the proxy' } }),
        );
        return;
      }
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && key !== 'host' && key !== 'connection') {
          headers.set(key, value);
        }
      }
      const upstream = await fetch(target + path, {
        method,
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const drop = toDrop > 0 && matcher(method, path);
      if (drop) toDrop--;
      if (upstream.headers.get('content-type')?.startsWith('text/event-stream')) {
        // Streams are passed through as they come (never dropped here).
        res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
        res.flushHeaders();
        const reader = upstream.body!.getReader();
        const kill = () => req.socket.destroy();
        openStreams.add(kill);
        res.on('close', () => {
          openStreams.delete(kill);
          void reader.cancel().catch(() => undefined);
        });
        for (;;) {
          const { done, value } = await reader
            .read()
            .catch(() => ({ done: true, value: undefined }));
          if (done || value === undefined) break;
          res.write(value);
        }
        res.end();
        return;
      }
      // The whole answer is read first: by then the server has committed the request.
      const answer = await upstream.text();
      requests.push({ method, path, status: upstream.status, body: answer, dropped: drop });
      if (drop) {
        req.socket.destroy();
        return;
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (key !== 'content-length' && key !== 'content-encoding' && key !== 'transfer-encoding') {
          out[key] = value;
        }
      });
      res.writeHead(upstream.status, out);
      res.end(answer);
    })().catch(() => {
      req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropNext(count, match) {
      toDrop = count;
      matcher = match;
    },
    killStreams() {
      for (const kill of [...openStreams]) kill();
    },
    refuseStreams(refuse) {
      refusing = refuse;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
