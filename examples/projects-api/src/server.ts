/**
 * Starts the API: PGlite (a data directory, or in memory), the table, the handler, and a Node
 * HTTP server on loopback.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { createProjectsApi } from './app.js';
import { TokenAuth } from './auth.js';
import { MIGRATION } from './schema.js';

/** Options of {@link startProjectsApi}. */
export interface StartOptions {
  /** Port to listen on (0 = any free one). */
  port?: number;
  /** PGlite data directory; in memory when absent. */
  dataDir?: string;
}

/** A running API. */
export interface RunningApi {
  url: string;
  /** Runs SQL directly, as a server-side job would. */
  database: PGlite;
  close(): Promise<void>;
}

/** Starts the API on 127.0.0.1. */
export async function startProjectsApi(options: StartOptions = {}): Promise<RunningApi> {
  const database = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
  await database.exec(MIGRATION);
  const handler = createProjectsApi({
    db: drizzle({ client: database }),
    auth: new TokenAuth(randomBytes(32)),
  });
  const server = createServer((req, res) => {
    void respond(handler, req, res);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    database,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

async function respond(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
    const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: req.headers as Record<string, string>,
      ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
    });
    const response = await handler(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    console.error(error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'internal error' }));
  }
}
