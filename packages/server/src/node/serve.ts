/**
 * Serving a fetch handler with Node's `http`: requests become `Request`s whose body streams
 * from the socket (so size limits cut a large upload short), responses stream back with
 * backpressure, and a client that disconnects aborts `request.signal` (ending event streams).
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyTextOf } from '../http/problem.js';

/** A fetch handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Where errors of the HTTP plumbing go. @default console.error */
  onError?: (error: unknown) => void;
  /**
   * Time a client has to send a request's headers, in milliseconds; then the connection is
   * closed. @default 15000
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send a whole request, headers and body, in milliseconds: a body
   * shorter than its `Content-Length` gets 408 and a closed connection instead of holding it
   * open. Event streams are not affected (their request has no body). @default 60000
   */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, in milliseconds. @default 5000 */
  keepAliveTimeoutMs?: number;
  /**
   * A request refused before its body was read (429, 413, 401, ...) is answered with
   * `connection: close`, and the server then reads and discards the rest of the body until it
   * ends, so that a client still sending it gets the answer rather than a TCP reset (`EPIPE`):
   * for up to 30 s when its declared `Content-Length` is at most this many bytes, for 2 s when
   * it is larger or unknown. @default 8388608 (8 MiB)
   */
  drainRefusedBodyMaxBytes?: number;
}

/** A running HTTP server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The bound port. */
  port: number;
  /** The Node server. */
  server: Server;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on a new `http.Server`.
 *
 * @example
 * ```ts
 * const { url, close } = await serve(createSyncHandler({ store, authenticate }), { port: 8787 });
 * ```
 */
export async function serve(
  handler: FetchHandler,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const onError = options.onError ?? ((error: unknown) => console.error('[syncline]', error));
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 15_000, requestTimeout);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // Node checks both timeouts on this interval (30 s by default), so it bounds their
      // precision: a quarter of the shorter one, within [100 ms, 1 s].
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    nodeListener(handler, onError, options.drainRefusedBodyMaxBytes),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Give in-flight answers a moment, then cut whatever is left (event streams).
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

/** Adapts a fetch handler to a Node `request` listener. */
export function nodeListener(
  handler: FetchHandler,
  onError: (error: unknown) => void = (error) => console.error('[syncline]', error),
  drainRefusedBodyMaxBytes = DRAIN_REFUSED_BODY_MAX_BYTES,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const request = toRequest(req, aborter.signal);
    handler(request)
      .then((response) => writeResponse(req, res, response, drainRefusedBodyMaxBytes))
      .catch((error: unknown) => {
        onError(error);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"error":{"code":"internal","message":"internal server error"}}');
        } else {
          res.destroy();
        }
      });
  };
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const host = req.headers.host ?? 'localhost';
  const url = new URL(
    req.url ?? '/',
    `http://${host.replace(/[^A-Za-z0-9.:[\]-]/g, '') || 'localhost'}`,
  );
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    try {
      headers.append(name, value);
    } catch {
      // A header Fetch cannot represent is dropped rather than failing the request.
    }
  }
  const method = req.method ?? 'GET';
  // A declared empty body (an acknowledgement's POST) gets none: a stream for it cost more
  // than the rest of the request's conversion.
  const emptyBody =
    req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined;
  const hasBody = method !== 'GET' && method !== 'HEAD' && !emptyBody;
  return new Request(url, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: bodyStream(req), duplex: 'half' } : {}),
  } as RequestInit);
}

/**
 * The request body as a pull stream: bytes are read from the socket only as fast as the
 * handler consumes them (up to {@link BODY_BUFFER_BYTES} ahead), so a handler that stops
 * reading (413) stops the upload too.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  req.pause();
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (cancelled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          if (!cancelled) controller.close();
        });
        req.once('error', (error) => {
          if (!cancelled) controller.error(error);
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        cancelled = true;
        req.pause();
      },
    },
    // Counted in bytes: with the default (one chunk), the socket was paused and resumed for
    // every 64 KB piece of an upload.
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_BUFFER_BYTES }),
  );
}

/** Request body bytes read ahead of the handler. */
const BODY_BUFFER_BYTES = 1 << 20;
/** Default of {@link ServeOptions.drainRefusedBodyMaxBytes}. */
const DRAIN_REFUSED_BODY_MAX_BYTES = 8 << 20;
/** How long a lingering close keeps discarding what the client still sends of a large body. */
const LINGER_MS = 2000;
/** The same for a body of modest declared size ({@link ServeOptions.drainRefusedBodyMaxBytes}). */
const DRAIN_LINGER_MS = 30_000;

async function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
  drainMaxBytes: number,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  // The handler answered without reading the whole upload (429, 413, 401, ...), and a client
  // is usually still sending it: the connection closes after the answer, lingering (reading
  // and discarding) until that body ends so that the answer is not lost to a TCP reset. A body
  // of modest declared size may take its time; a larger or unknown-length one gets a moment.
  if (!req.complete) {
    headers.connection = 'close';
    const declared = Number(req.headers['content-length']);
    const modest = Number.isSafeInteger(declared) && declared <= drainMaxBytes;
    lingerOnClose(req, modest ? DRAIN_LINGER_MS : LINGER_MS);
  }
  // A JSON answer of the handler: its text goes to the socket in one write, with a length.
  const text = bodyTextOf(response);
  if (text !== undefined) headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  if (response.body === null || req.method === 'HEAD') {
    res.end();
    return;
  }
  if (text !== undefined) {
    res.end(text);
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.once('close', () => {
    reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        // Both listeners go once either fires: a long download waits for 'drain' hundreds of
        // times, and 'close' listeners left behind would pile up on the response.
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
      if (res.destroyed) break;
    }
  } finally {
    res.end();
  }
}

/**
 * Makes the close after a `connection: close` answer linger: our side ends, what the client
 * still sends is discarded until its body ends or `maxMs` pass, then the socket closes. Node itself ends such an answer with `socket.destroySoon()`, which destroys the
 * socket as soon as our FIN is out: the client's body still arriving then gets a TCP reset,
 * and a client still writing it sees `EPIPE` instead of the answer.
 */
function lingerOnClose(req: IncomingMessage, maxMs: number): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    // Into nothing, as Node's own `req._dump()` does.
    req.removeAllListeners('data');
    req.resume();
    if (req.complete) socket.destroy();
    else req.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), maxMs).unref();
  };
}
