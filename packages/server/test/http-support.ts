/**
 * HTTP helpers of the server tests: calls with a token, an event-stream reader.
 */
import type { Poke } from '@syncline/sync-core/protocol';

/** A decoded answer. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends a request and decodes a JSON answer (or keeps the text). */
export async function call(
  url: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { ...init, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let decoded: unknown = text;
  try {
    decoded = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: decoded };
}

/** Gets a dev token for `userId`. */
export async function devToken(
  baseUrl: string,
  userId: string,
): Promise<{ token: string; sessionId: string }> {
  const answer = await call(`${baseUrl}/v1/dev/token`, { method: 'POST', json: { userId } });
  if (answer.status !== 200)
    throw new Error(`dev token: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { token: string; sessionId: string };
}

/** An open event stream that collects pokes. */
export interface EventsReader {
  status: number;
  pokes: Poke[];
  comments: string[];
  /** The `data` of `end` events (the server ended the stream, e.g. `token_expired`). */
  ends: { code: string; message: string; scope?: string }[];
  /** `true` once the server closed the stream. */
  closed: boolean;
  close(): void;
}

/** Opens `GET /v1/events` and collects its pokes until closed. */
export async function openEvents(
  baseUrl: string,
  token: string,
  scopes: string[],
): Promise<EventsReader> {
  const aborter = new AbortController();
  const response = await fetch(
    `${baseUrl}/v1/events?scopes=${encodeURIComponent(scopes.join(','))}`,
    {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: aborter.signal,
    },
  );
  const reader: EventsReader = {
    status: response.status,
    pokes: [],
    comments: [],
    ends: [],
    closed: false,
    close: () => aborter.abort(),
  };
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    return reader;
  }
  const decoder = new TextDecoder();
  const stream = response.body.getReader();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await stream.read();
        if (done) {
          reader.closed = true;
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          for (const line of lines)
            if (line.startsWith(':')) reader.comments.push(line.slice(1).trim());
          const data = lines.find((l) => l.startsWith('data: '));
          if (lines.includes('event: poke') && data !== undefined) {
            reader.pokes.push(JSON.parse(data.slice(6)) as Poke);
          }
          if (lines.includes('event: end') && data !== undefined) {
            reader.ends.push(JSON.parse(data.slice(6)) as EventsReader['ends'][number]);
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return reader;
}

// An HLC names one write of one client, and the server recognises a re-sent write by it (DESIGN
// §3.2): two HLCs handed out here never match, even within a millisecond.
let hlcCounter = 0;

/** A valid HLC for now, unique among the ones this module hands out. */
export function hlcNow(node = 'c1'): string {
  hlcCounter = (hlcCounter + 1) % 0x10000;
  return `${Date.now().toString(16).padStart(12, '0')}:${hlcCounter.toString(16).padStart(4, '0')}:${node}`;
}

/**
 * A new `put` of a `todos` record as a request body carries it; `data` and `extra` are not
 * checked, so tests can send what a server must refuse.
 */
export function wirePut(
  scope: string,
  recordId: string,
  data: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    scope,
    collection: 'todos',
    recordId,
    op: 'put',
    data,
    baseRevision: 0,
    hlc: hlcNow(),
    ...extra,
  };
}
