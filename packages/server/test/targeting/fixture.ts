/**
 * The fixture of the session-targeting suites: a real server over loopback (dev auth, a
 * filesystem BlobStore in a temp directory, an injected server clock, a membership table the
 * test fills), and raw HTTP helpers. One store per runner file (PGlite or PostgreSQL).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type BlobStore, fileBlobStore } from '../../src/assets/blob-store.js';
import type { Logger } from '../../src/http/problem.js';
import { type StartedServer, startServer } from '../../src/node/start-server.js';
import type { SqlStoreOptions } from '../../src/store/sql-store.js';
import type { SyncStore } from '../../src/store/types.js';
import { type Answer, call, devToken } from '../http-support.js';

/** Opens a store with the given options (the server clock among them). */
export type OpenStore = (
  options: SqlStoreOptions,
) => Promise<{ store: SyncStore; close(): Promise<void> }>;

/** A signed-in session of a user. */
export interface Session {
  userId: string;
  sessionId: string;
  clientId: string;
  token: string;
}

/** What the targeting suites share. */
export interface TargetingFixture {
  server: StartedServer;
  /** The store the server runs on. */
  store: SyncStore;
  url: string;
  blobs: BlobStore;
  /** The blob syncs that completed, in order: the key and its size when the sync began. */
  synced: { key: string; size: number }[];
  /** The server clock (epoch ms); tests move it. */
  clock: { now: number };
  /** Members of shared scopes, as the app's membership source would list them. */
  members: Map<string, string[]>;
  /** Unexpected errors the server logged (must stay empty). */
  logged: unknown[];
  /** A new user id. */
  newUser(): string;
  /** Signs in `userId` on a device (`clientId`, new unless given) and sends its heartbeat. */
  signIn(userId: string, clientId?: string): Promise<Session>;
  /** A request as `who`. */
  as(
    who: Session | undefined,
    path: string,
    init?: RequestInit & { json?: unknown },
  ): Promise<Answer>;
}

/** Size limits of the fixture server, small enough to test. */
export const LIMITS = { maxAssetBytes: 2_000_000, maxUserStorageBytes: 3_000_000 };

/**
 * Starts the fixture in `beforeAll`, stops it in `afterAll`; `limits` go over {@link LIMITS}
 * (e.g. a `maxDeliveryTtlSeconds`).
 */
export function useTargetingFixture(
  open: OpenStore,
  limits: { maxDeliveryTtlSeconds?: number } = {},
): () => TargetingFixture {
  let fixture: TargetingFixture | undefined;
  let closeStore: (() => Promise<void>) | undefined;
  let directory = '';
  beforeAll(async () => {
    const clock = { now: Date.now() };
    const members = new Map<string, string[]>();
    const logged: unknown[] = [];
    const logger: Logger = { error: (m, d) => logged.push([m, d]), warn: () => undefined };
    const opened = await open({ environment: { now: () => clock.now } });
    closeStore = opened.close;
    directory = await mkdtemp(join(tmpdir(), 'syncline-blobs-'));
    const files = fileBlobStore({ directory });
    const synced: TargetingFixture['synced'] = [];
    const blobs: BlobStore = {
      ...files,
      async sync(key) {
        const size = await files.size(key);
        await files.sync?.(key);
        synced.push({ key, size });
      },
    };
    const server = await startServer({
      port: 0,
      store: opened.store,
      devAuth: true,
      logger,
      blobStore: blobs,
      listScopeMembers: (scope) => members.get(scope) ?? [],
      purgeIntervalMs: 0,
      sweepIntervalMs: 0,
      limits: { rateLimit: false, ...LIMITS, ...limits },
    });
    const as: TargetingFixture['as'] = (who, path, init = {}) =>
      call(`${server.url}${path}`, {
        ...init,
        ...(who === undefined ? {} : { token: who.token }),
      });
    fixture = {
      server,
      store: opened.store,
      url: server.url,
      blobs,
      synced,
      clock,
      members,
      logged,
      newUser: () => `u-${randomUUID().slice(0, 8)}`,
      async signIn(userId, clientId = `c-${randomUUID().slice(0, 8)}`) {
        const { token, sessionId } = await devToken(server.url, userId);
        const session = { userId, sessionId, clientId, token };
        const beat = await as(session, '/v1/sessions/heartbeat', {
          method: 'POST',
          json: { clientId, sessionId, label: `device ${clientId}` },
        });
        expect(beat.status, JSON.stringify(beat.body)).toBe(200);
        return session;
      },
      as,
    };
  });
  afterAll(async () => {
    await fixture?.server.close();
    await closeStore?.();
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });
  return () => {
    if (fixture === undefined) throw new Error('the targeting fixture is not started');
    return fixture;
  };
}

/** Deterministic bytes of `size` (seeded), and their sha256. */
export function asset(size: number, seed = 1): { bytes: Uint8Array<ArrayBuffer>; sha256: string } {
  const bytes = new Uint8Array(size);
  let x = seed * 2_654_435_761;
  for (let i = 0; i < size; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The sha256 of bytes, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `PUT /v1/assets/:sha256` of bytes `[start, end)` of `bytes`. */
export function putChunk(
  f: TargetingFixture,
  who: Session,
  sha256: string,
  bytes: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  headers['content-range'] =
    bytes.byteLength === 0 ? 'bytes */0' : `bytes ${start}-${end - 1}/${bytes.byteLength}`;
  return f.as(who, `/v1/assets/${sha256}`, {
    method: 'PUT',
    headers,
    body: bytes.slice(start, end),
  });
}

/** Uploads the whole asset in `chunks` pieces; the answer of the last one. */
export async function upload(
  f: TargetingFixture,
  who: Session,
  file: { bytes: Uint8Array<ArrayBuffer>; sha256: string },
  chunks = 3,
): Promise<Answer> {
  const size = file.bytes.byteLength;
  const step = Math.max(1, Math.ceil(size / chunks));
  let answer: Answer | undefined;
  for (let start = 0; start < size || (size === 0 && answer === undefined); start += step) {
    answer = await putChunk(f, who, file.sha256, file.bytes, start, Math.min(size, start + step));
    if (start + step < size) expect(answer.status, JSON.stringify(answer.body)).toBe(308);
  }
  return answer as Answer;
}

/** `GET /v1/assets/:sha256` as raw bytes. */
export async function download(
  f: TargetingFixture,
  who: Session,
  sha256: string,
  range?: string,
): Promise<{ status: number; bytes: Uint8Array; headers: Headers }> {
  const response = await fetch(`${f.url}/v1/assets/${sha256}`, {
    headers: { authorization: `Bearer ${who.token}`, ...(range === undefined ? {} : { range }) },
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

/** A delivery request body. */
export function deliveryBody(
  who: Session,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: randomUUID(),
    scope: `user:${who.userId}`,
    kind: 'note',
    target: { type: 'otherSessions' },
    ...extra,
  };
}

/** An open event stream that records every event (`event:` name and parsed data). */
export interface EventLog {
  events: Array<{ event: string; data: unknown }>;
  close(): void;
}

/** Opens `GET /v1/events` as `who` and records its named events. */
export async function openEventLog(f: TargetingFixture, who: Session): Promise<EventLog> {
  const aborter = new AbortController();
  const response = await fetch(
    `${f.url}/v1/events?scopes=${encodeURIComponent(`user:${who.userId}`)}`,
    { headers: { authorization: `Bearer ${who.token}` }, signal: aborter.signal },
  );
  expect(response.status).toBe(200);
  const log: EventLog = { events: [], close: () => aborter.abort() };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const lines = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const name = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (name !== undefined) log.events.push({ event: name, data: data && JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return log;
}

/** Waits until `check` passes (events arrive asynchronously). */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 3000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
