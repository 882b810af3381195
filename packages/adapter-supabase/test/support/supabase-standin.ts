/**
 * The stand-in Supabase project: one HTTP server on loopback with the REST (RPC), Auth and
 * Realtime endpoints of `postgrest-standin.ts`, `gotrue-standin.ts` and
 * `realtime-standin.ts` at Supabase's paths, over one test database. Point an unmodified
 * `createClient(url, anonKey)` at it.
 *
 * Fault injection for the REST endpoint: `dropNextResponses` lets matching calls run and
 * commit, then cuts the connection before the answer, which supabase-js reports as status 0.
 * For Storage downloads, `stallDownloads` sends part of an object's body and then nothing
 * more (a network that died mid-download); `corruptDownloads` flips a byte of the body (bytes
 * damaged on the way).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { SupabaseDatabase } from './database.js';
import { GoTrueStandIn } from './gotrue-standin.js';
import { anonKey } from './jwt.js';
import { PostgrestStandIn, statusText } from './postgrest-standin.js';
import { RealtimeStandIn } from './realtime-standin.js';
import { StorageStandIn } from './storage-standin.js';

/** Which downloads a stall applies to. */
export type DownloadMatch = (request: { path: string; headers: Record<string, string> }) => boolean;

/** A running stand-in project. */
export interface SupabaseStandIn {
  /** The project URL (`SUPABASE_URL`). */
  readonly url: string;
  /** The anon key (`SUPABASE_ANON_KEY`). */
  readonly anonKey: string;
  readonly db: SupabaseDatabase;
  readonly rest: PostgrestStandIn;
  readonly auth: GoTrueStandIn;
  readonly realtime: RealtimeStandIn;
  readonly storage: StorageStandIn;
  /** The next `count` RPC calls to `fn` run and commit, and then lose their answer. */
  dropNextResponses(fn: string, count?: number): void;
  /** Answers dropped so far, with the status and body they would have had. */
  readonly dropped: Array<{ fn: string; status: number; body: string | undefined }>;
  /**
   * The next `count` Storage object downloads that `match` send `afterBytes` bytes of their
   * body and then stall (the connection stays open, silent).
   */
  stallDownloads(match: DownloadMatch, afterBytes: number, count?: number): void;
  /** The next `count` Storage object downloads that `match` answer with one byte flipped. */
  corruptDownloads(match: DownloadMatch, count?: number): void;
  /**
   * A new supabase-js client for this project (one device); `fetch` replaces its HTTP client,
   * `key` the anon key (e.g. the service-role key).
   */
  createClient(options?: {
    vsn?: '1.0.0' | '2.0.0';
    fetch?: typeof fetch;
    key?: string;
  }): SupabaseClient;
  close(): Promise<void>;
}

/** Starts the stand-in project on 127.0.0.1 over `db`. */
export async function startSupabaseStandIn(db: SupabaseDatabase): Promise<SupabaseStandIn> {
  const rest = new PostgrestStandIn(db.api);
  const auth = new GoTrueStandIn(db.admin);
  const realtime = new RealtimeStandIn(db.admin);
  const tusDirectory = await mkdtemp(join(tmpdir(), 'syncline-tus-'));
  const storage = new StorageStandIn(db.api, db.admin, { tusDirectory });
  const stalls: Array<{ match: DownloadMatch; afterBytes: number; count: number }> = [];
  const corruptions: Array<{ match: DownloadMatch; count: number }> = [];
  await realtime.start();
  const key = await anonKey();
  const drops = new Map<string, number>();
  const dropped: SupabaseStandIn['dropped'] = [];
  const clients: SupabaseClient[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const rpc = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(url.pathname);
    if (rpc !== null) {
      const fn = decodeURIComponent(rpc[1] as string);
      const answer = await rest.handle({ method: req.method ?? 'GET', fn, headers, body });
      const pending = drops.get(fn) ?? 0;
      if (pending > 0) {
        drops.set(fn, pending - 1);
        dropped.push({ fn, status: answer.status, body: answer.body });
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, statusText(answer.status), answer.headers);
      res.end(answer.body);
      return;
    }
    if (url.pathname.startsWith('/storage/v1/')) {
      const answer = await storage.handle({
        method: req.method ?? 'GET',
        path: url.pathname.slice('/storage/v1'.length),
        origin: `http://${req.headers.host ?? '127.0.0.1'}`,
        headers,
        body: new Uint8Array(raw),
      });
      res.writeHead(answer.status, answer.headers);
      const stall = stalls.find((s) => s.count > 0 && s.match({ path: url.pathname, headers }));
      if (req.method === 'GET' && answer.status < 300 && stall !== undefined) {
        stall.count--;
        res.write(answer.body.slice(0, stall.afterBytes));
        return;
      }
      const corrupt = corruptions.find(
        (c) => c.count > 0 && c.match({ path: url.pathname, headers }),
      );
      if (
        req.method === 'GET' &&
        answer.status < 300 &&
        corrupt !== undefined &&
        answer.body instanceof Uint8Array &&
        answer.body.length > 0
      ) {
        corrupt.count--;
        const damaged = answer.body.slice();
        const at = damaged.length >> 1;
        damaged[at] = (damaged[at] ?? 0) ^ 0xff;
        res.end(damaged);
        return;
      }
      res.end(answer.body);
      return;
    }
    if (url.pathname.startsWith('/auth/v1/')) {
      const answer = await auth.handle({
        method: req.method ?? 'GET',
        path: url.pathname.slice('/auth/v1'.length),
        query: url.searchParams,
        headers,
        body,
      });
      if (answer.body === undefined) res.writeHead(answer.status).end();
      else {
        res
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.body));
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `no route ${url.pathname}` }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(error) }));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === '/realtime/v1/websocket') {
      realtime.upgrade(req, socket, head);
    } else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    anonKey: key,
    db,
    rest,
    auth,
    realtime,
    storage,
    dropped,
    dropNextResponses(fn, count = 1) {
      drops.set(fn, (drops.get(fn) ?? 0) + count);
    },
    stallDownloads(match, afterBytes, count = 1) {
      stalls.push({ match, afterBytes, count });
    },
    corruptDownloads(match, count = 1) {
      corruptions.push({ match, count });
    },
    createClient(options = {}) {
      const client = createClient(url, options.key ?? key, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
        ...(options.fetch === undefined ? {} : { global: { fetch: options.fetch } }),
        realtime: {
          transport: WebSocket as never,
          ...(options.vsn === undefined ? {} : { vsn: options.vsn }),
          reconnectAfterMs: () => 100,
        },
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.removeAllChannels().catch(() => undefined)));
      for (const c of clients) c.realtime.disconnect();
      await realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(tusDirectory, { recursive: true, force: true });
    },
  };
}
