/**
 * An asset download through Node's own `http`/`https` instead of `fetch`, where the fetch is
 * Node's (undici). undici copies every socket-sized piece of a response body into a new
 * buffer before its stream hands it on, and parses in WebAssembly: over a 50 MB download
 * that was about a third of the receiver's CPU (docs/decisions.md, issue 12, session 12).
 * Here the pieces Node reads from the socket go into the body stream as they are (views, no
 * copy). The function has `fetch`'s shape, so `HttpClient` keeps doing the token, the 401
 * retry, the deadline and the errors; it is passed per request (`HttpRequest.fetch`).
 *
 * @module
 */
import type { IncomingMessage, RequestOptions } from 'node:http';

/** The part of `node:http` / `node:https` used here. */
interface NodeHttpModule {
  request(
    url: string,
    options: RequestOptions,
    onResponse: (response: IncomingMessage) => void,
  ): {
    on(event: 'error', listener: (error: Error) => void): unknown;
    setTimeout(ms: number, listener: () => void): unknown;
    destroy(error?: Error): unknown;
    end(): unknown;
  };
}

interface BuiltinHost {
  process?: { getBuiltinModule?: (id: string) => unknown };
}

/**
 * A response body that stops coming for this long fails the download (the client then resumes
 * from what it stored), as undici's `bodyTimeout` (the same 300 s) does for `fetch`.
 */
export const BODY_IDLE_TIMEOUT_MS = 300_000;

/** Body bytes read from the socket ahead of the reader. */
const BODY_BUFFER_BYTES = 1 << 20;

/** Statuses whose answers have no body (a `Response` refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Redirect statuses: such an answer is left to `fetch`, which follows it. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** `node:http` or `node:https` for `url`, when the runtime has them (found at call time). */
function nodeHttpModule(url: string): NodeHttpModule | undefined {
  try {
    const id = url.startsWith('https:') ? 'node:https' : 'node:http';
    return (globalThis as BuiltinHost).process?.getBuiltinModule?.(id) as NodeHttpModule;
  } catch {
    return undefined;
  }
}

/** Whether {@link nodeHttpFetch} can run here (Node 20.16+, Bun, Deno). */
export function nodeHttpAvailable(): boolean {
  return nodeHttpModule('http:') !== undefined;
}

/**
 * `fetch` for a request without a body (an asset `GET`), over `node:http`/`node:https`: the
 * headers and `signal` of `init` are honoured; the body streams the socket's pieces as they
 * are, paused while {@link BODY_BUFFER_BYTES} wait unread, and fails if the connection ends
 * before the body does or stays silent for {@link BODY_IDLE_TIMEOUT_MS}. A redirect is not
 * followed here: the request is handed to the global `fetch`, which follows it.
 */
export function nodeHttpFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const http = nodeHttpModule(input);
  if (http === undefined) return globalThis.fetch(input, init);
  const method = init.method ?? 'GET';
  return new Promise<Response>((resolve, reject) => {
    const request = http.request(
      input,
      {
        method,
        headers: init.headers as Record<string, string> | undefined,
        ...(init.signal == null ? {} : { signal: init.signal }),
      },
      (answer) => {
        const status = answer.statusCode ?? 0;
        if (REDIRECT_STATUSES.has(status)) {
          answer.resume(); // discarded: the global fetch asks again and follows it
          resolve(globalThis.fetch(input, init));
          return;
        }
        const headers = new Headers();
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          try {
            headers.append(answer.rawHeaders[i] as string, answer.rawHeaders[i + 1] as string);
          } catch {
            // a header Fetch cannot represent is dropped rather than failing the download
          }
        }
        const empty = method === 'HEAD' || NULL_BODY_STATUSES.has(status);
        if (empty) answer.resume();
        try {
          resolve(
            new Response(empty ? null : bodyOf(answer), {
              status,
              statusText: answer.statusMessage ?? '',
              headers,
            }),
          );
        } catch (error) {
          answer.destroy();
          reject(error); // a status a Response cannot have
        }
      },
    );
    request.on('error', reject); // before the answer; after it, the body stream fails instead
    request.setTimeout(BODY_IDLE_TIMEOUT_MS, () => {
      request.destroy(new Error(`no bytes for ${BODY_IDLE_TIMEOUT_MS} ms`));
    });
    request.end();
  });
}

/**
 * The answer's body as a pull stream of the pieces Node read (views of its buffers, which it
 * never reuses): the socket is paused while {@link BODY_BUFFER_BYTES} wait unread.
 */
function bodyOf(answer: IncomingMessage): ReadableStream<Uint8Array> {
  answer.pause();
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        answer.on('data', (piece: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) answer.pause();
        });
        answer.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        // An error, an abort (the caller's signal), or a connection closed before the body's
        // end: the stream fails, so a download cut short is never taken for a whole one.
        const fail = (error?: Error) => {
          if (settled) return;
          settled = true;
          controller.error(error ?? new Error('the connection closed before the body ended'));
        };
        answer.once('error', fail);
        answer.once('close', () => {
          if (!answer.complete) fail(answer.errored ?? undefined);
        });
      },
      pull() {
        answer.resume();
      },
      cancel() {
        settled = true;
        answer.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_BUFFER_BYTES }),
  );
}
