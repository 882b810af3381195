#!/usr/bin/env node
/**
 * `syncline-server`: runs the reference sync server.
 *
 *   syncline-server --port 8787 [--host 127.0.0.1] [--data DIR | --database-url URL]
 *                   [--jwt-secret S | --jwks-url URL] [--issuer I] [--audience A]
 *                   [--cors ORIGIN]... [--dev-auth]
 *
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileBlobStore } from './assets/blob-store.js';
import { jwtAuth } from './auth/jwt-auth.js';
import type { Authenticate } from './auth/types.js';
import { startServer } from './node/start-server.js';
import { pgliteStore } from './store/pglite-store.js';
import { postgresStore } from './store/postgres-store.js';

const USAGE = `usage: syncline-server [--port 8787] [--host 127.0.0.1]
                       [--data DIR | --database-url URL]
                       [--jwt-secret SECRET | --jwks-url URL] [--issuer ISS] [--audience AUD]
                       [--cors ORIGIN]... [--dev-auth]

  --data DIR          embedded PGlite database directory (default ./.syncline-data)
  --database-url URL  PostgreSQL instead of PGlite (env DATABASE_URL)
  --jwt-secret S      verify HS256/384/512 bearer tokens (env SYNCLINE_JWT_SECRET)
  --jwks-url URL      verify tokens with the identity provider's JWKS
  --dev-auth          DEVELOPMENT ONLY: anyone may get a token for any user (POST /v1/dev/token)
  --cors ORIGIN       allow browser apps from ORIGIN ('*' for any; default '*' with --dev-auth)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string' },
      'database-url': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'jwks-url': { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      cors: { type: 'string', multiple: true },
      'dev-auth': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`bad --port ${values.port}`);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (databaseUrl !== undefined && values.data !== undefined) {
    fail('use either --data or --database-url, not both');
  }

  let authenticate: Authenticate | undefined;
  const secret = values['jwt-secret'] ?? process.env.SYNCLINE_JWT_SECRET;
  if (secret !== undefined || values['jwks-url'] !== undefined) {
    authenticate = jwtAuth({
      ...(secret === undefined ? {} : { secret }),
      ...(values['jwks-url'] === undefined ? {} : { jwksUrl: values['jwks-url'] }),
      ...(values.issuer === undefined ? {} : { issuer: values.issuer }),
      ...(values.audience === undefined ? {} : { audience: values.audience }),
    });
  }
  const dev = values['dev-auth'];
  if (authenticate === undefined && !dev) {
    fail(
      'no authentication configured: pass --jwt-secret or --jwks-url (or --dev-auth for a demo)',
    );
  }
  if (dev) {
    const line = '!'.repeat(78);
    console.warn(
      `${line}\n!! DEVELOPMENT AUTH IS ON (--dev-auth): anyone who can reach this server can get a\n!! token for ANY user id with POST /v1/dev/token. Never use it in production.\n${line}`,
    );
  }

  const store =
    databaseUrl !== undefined
      ? await postgresStore({ connectionString: databaseUrl })
      : await pgliteStore({ dataDir: values.data ?? './.syncline-data' });
  const cors = values.cors ?? (dev ? ['*'] : undefined);
  const server = await startServer({
    port,
    host: values.host,
    store,
    devAuth: dev,
    // Asset bytes beside the PGlite data; with PostgreSQL, in ./.syncline-assets.
    blobStore: fileBlobStore({
      directory:
        databaseUrl !== undefined
          ? './.syncline-assets'
          : join(values.data ?? './.syncline-data', 'assets'),
    }),
    ...(authenticate === undefined ? {} : { authenticate }),
    ...(cors === undefined ? {} : { cors: { origins: cors.includes('*') ? '*' : cors } }),
  });
  console.log(
    `syncline-server listening on ${server.url} (${databaseUrl !== undefined ? 'PostgreSQL' : `PGlite at ${values.data ?? './.syncline-data'}`})`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function fail(message: string): never {
  console.error(`syncline-server: ${message}\n\n${USAGE}`);
  process.exit(2);
}

main().catch((error: unknown) => {
  console.error('syncline-server failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
