/**
 * Pull-ahead (`src/http/pull-ahead.ts`): after a page with `hasMore`, the next page is requested
 * at once and answers the client's identical next pull; anything else (another request, another
 * session, an old or failed page) goes to the server as usual. A scripted `fetch` stands in for
 * the server so the order of requests is visible.
 */
import { createSessionSource, isSyncError, type PullResponse } from '@syncline/sync-core';
import { PULL_NEXT_CHECKPOINT_HEADER } from '@syncline/sync-core/protocol';
import { describe, expect, it } from 'vitest';
import { restTransport } from '../src/index.js';
import { record } from './support/fixtures.js';

const BASE = 'http://sync.test';
const SCOPE = 'user:1';

/** Three pages of a scope by checkpoint: null -> c1 -> c2 -> c3 (the last one without more). */
function pageAfter(checkpoint: string | null): PullResponse {
  const n = checkpoint === null ? 0 : Number(checkpoint.slice(1));
  return {
    changes: [record(SCOPE, `r${n + 1}`, n + 1)],
    checkpoint: `c${n + 1}`,
    hasMore: n + 1 < 3,
  };
}

interface Scripted {
  fetch: typeof globalThis.fetch;
  /** The checkpoints of the pulls the server received, in order ('-' for none). */
  asked: string[];
  /** Makes the next `count` pulls from `checkpoint` fail with a 503. */
  failNext(count: number, checkpoint: string): void;
  /** Holds every answer until `release()`. */
  hold(): { release: () => void };
}

function scripted(): Scripted {
  const asked: string[] = [];
  const failures = new Map<string, number>();
  let gate: Promise<void> | undefined;
  return {
    asked,
    failNext(count, checkpoint) {
      failures.set(checkpoint, count);
    },
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return {
        release: () => {
          gate = undefined;
          release();
        },
      };
    },
    fetch: async (input) => {
      const url = new URL(String(input));
      const checkpoint = url.searchParams.get('checkpoint');
      asked.push(checkpoint ?? '-');
      if (gate !== undefined) await gate;
      const failing = failures.get(checkpoint ?? '-') ?? 0;
      if (failing > 0) {
        failures.set(checkpoint ?? '-', failing - 1);
        return new Response('{"error":{"code":"unavailable","message":"down"}}', { status: 503 });
      }
      return Response.json(pageAfter(checkpoint));
    },
  };
}

function transportOf(server: Scripted, now = { ms: 0 }, session = createSessionSource()) {
  if (session.current() === null) session.set({ userId: '1', sessionId: 's1' });
  return {
    session,
    now,
    transport: restTransport({
      baseUrl: BASE,
      getToken: () => 'token',
      session,
      realtime: false,
      fetch: server.fetch,
      environment: { now: () => now.ms },
    }),
  };
}

const shape = (page: PullResponse) => ({
  ids: page.changes.map((c) => c.id),
  checkpoint: page.checkpoint,
  hasMore: page.hasMore,
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('pull-ahead', () => {
  it('requests the next page at once and answers the identical next pull with it', async () => {
    const server = scripted();
    const { transport } = transportOf(server);
    const first = await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    // The second page was asked for before the client asked.
    expect(server.asked).toEqual(['-', 'c1']);
    const second = await transport.pull({ scope: SCOPE, checkpoint: first.checkpoint, limit: 1 });
    expect(shape(second)).toEqual({ ids: ['r2'], checkpoint: 'c2', hasMore: true });
    await settle();
    expect(server.asked).toEqual(['-', 'c1', 'c2']);
    const third = await transport.pull({ scope: SCOPE, checkpoint: second.checkpoint, limit: 1 });
    expect(third.hasMore).toBe(false);
    await settle();
    // Nothing after the last page, and no page was asked for twice.
    expect(server.asked).toEqual(['-', 'c1', 'c2']);
  });

  it('sends any other request to the server (another checkpoint or limit)', async () => {
    const server = scripted();
    const { transport } = transportOf(server);
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    const other = await transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 5 });
    expect(other.checkpoint).toBe('c2');
    await settle();
    // The page fetched ahead for limit 1 was dropped, the limit-5 pull went out itself.
    expect(server.asked.slice(0, 3)).toEqual(['-', 'c1', 'c1']);
  });

  it('never hands a page fetched for one session to another', async () => {
    const server = scripted();
    const { transport, session } = transportOf(server);
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    session.set({ userId: '2', sessionId: 's2' });
    await transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 });
    expect(server.asked.slice(0, 3)).toEqual(['-', 'c1', 'c1']);
  });

  it('does not use a page that waited longer than 10 s', async () => {
    const server = scripted();
    const { transport, now } = transportOf(server);
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    now.ms += 10_001;
    await transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 });
    expect(server.asked.slice(0, 3)).toEqual(['-', 'c1', 'c1']);
  });

  it('sends the pull itself when the page fetched ahead failed, and reports its own outcome', async () => {
    const server = scripted();
    const { transport } = transportOf(server);
    // The request fetched ahead meets the outage; the client's own pull does not.
    server.failNext(1, 'c1');
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    const page = await transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 });
    expect(shape(page)).toEqual({ ids: ['r2'], checkpoint: 'c2', hasMore: true });
    expect(server.asked.slice(0, 3)).toEqual(['-', 'c1', 'c1']);
  });

  it('reports the failure of its own pull when the server is still down', async () => {
    const server = scripted();
    const { transport } = transportOf(server);
    server.failNext(2, 'c1');
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    const failure = await transport
      .pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 })
      .catch((e: unknown) => e);
    expect(isSyncError(failure) && failure.kind).toBe('server');
    expect(server.asked).toEqual(['-', 'c1', 'c1']);
  });

  it('lets the caller abort while it waits for the page fetched ahead', async () => {
    const server = scripted();
    const { transport } = transportOf(server);
    await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    const held = server.hold();
    await settle();
    const aborter = new AbortController();
    const waiting = transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 }, aborter.signal);
    aborter.abort();
    const error = await waiting.catch((e) => e);
    expect(isSyncError(error) && error.code).toBe('aborted');
    held.release();
  });

  it("asks for the next page from the answer's headers, before this page's body has arrived", async () => {
    const asked: string[] = [];
    const bodies = new Map<string, () => void>();
    // The server sends the headers first and holds each body until the test lets it go.
    const fetch: typeof globalThis.fetch = async (input) => {
      const checkpoint = new URL(String(input)).searchParams.get('checkpoint');
      asked.push(checkpoint ?? '-');
      const page = pageAfter(checkpoint);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          bodies.set(checkpoint ?? '-', () => {
            controller.enqueue(new TextEncoder().encode(JSON.stringify(page)));
            controller.close();
          });
        },
      });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page.hasMore) headers[PULL_NEXT_CHECKPOINT_HEADER] = page.checkpoint;
      return new Response(body, { headers });
    };
    const transport = restTransport({
      baseUrl: BASE,
      getToken: () => 'token',
      session: createSessionSource({ userId: '1', sessionId: 's1' }),
      realtime: false,
      fetch,
    });
    const first = transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
    await settle();
    // The first page's body has not arrived, yet the second page is under way.
    expect(asked).toEqual(['-', 'c1']);
    bodies.get('-')?.();
    expect(shape(await first)).toEqual({ ids: ['r1'], checkpoint: 'c1', hasMore: true });
    // The page fetched ahead has its headers (c2 follows) but the client has not asked for it
    // yet: nothing more goes out (one page ahead at most).
    await settle();
    expect(asked).toEqual(['-', 'c1']);
    const second = transport.pull({ scope: SCOPE, checkpoint: 'c1', limit: 1 });
    await settle();
    expect(asked).toEqual(['-', 'c1', 'c2']);
    bodies.get('c1')?.();
    expect(shape(await second)).toEqual({ ids: ['r2'], checkpoint: 'c2', hasMore: true });
    const third = transport.pull({ scope: SCOPE, checkpoint: 'c2', limit: 1 });
    bodies.get('c2')?.();
    expect((await third).hasMore).toBe(false);
    await settle();
    expect(asked).toEqual(['-', 'c1', 'c2']);
  });

  it('fetches nothing ahead without a session, or when turned off', async () => {
    for (const withSession of [false, true]) {
      const server = scripted();
      const base = { baseUrl: BASE, getToken: () => 'token', realtime: false as const };
      const transport = withSession
        ? restTransport({
            ...base,
            session: createSessionSource({ userId: '1', sessionId: 's1' }),
            pullAhead: false,
            fetch: server.fetch,
          })
        : restTransport({ ...base, fetch: server.fetch });
      await transport.pull({ scope: SCOPE, checkpoint: null, limit: 1 });
      await settle();
      expect(server.asked).toEqual(['-']);
    }
  });
});
