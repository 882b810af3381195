#!/usr/bin/env node
/**
 * `syncline-server`: runs the reference sync server.
 *
 *   syncline-server --port 8787 [--host 127.0.0.1] [--data DIR | --database-url URL]
 *                   [--jwt-secret S | --jwks-url URL] [--issuer I] [--audience A]
 *                   [--cors ORIGIN]... [--dev-auth [--dev-auth-public]] [--limits JSON]
 *                   [--stream-access-check-ms N] [--headers-timeout-ms N]
 *                   [--request-timeout-ms N] [--keep-alive-timeout-ms N]
 *
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileBlobStore } from './assets/blob-store.js';
import { jwtAuth } from './auth/jwt-auth.js';
import type { Authenticate } from './auth/types.js';
import type { ServerLimits } from './handler.js';
import { isLoopback, startServer } from './node/start-server.js';
import { postgresStore } from './store/postgres-store.js';

const USAGE = `usage: syncline-server [--port 8787] [--host 127.0.0.1]
                       [--data DIR | --database-url URL]
                       [--jwt-secret SECRET | --jwks-url URL] [--issuer ISS] [--audience AUD]
                       [--cors ORIGIN]... [--dev-auth [--dev-auth-public]]
                       [--limits JSON] [--stream-access-check-ms N]
                       [--headers-timeout-ms N] [--request-timeout-ms N] [--keep-alive-timeout-ms N]

  --data DIR          embedded PGlite database directory (default ./.syncline-data); one
                      server process per directory (a second one is refused)
  --database-url URL  PostgreSQL instead of PGlite (env DATABASE_URL)
  --jwt-secret S      verify HS256/384/512 bearer tokens (env SYNCLINE_JWT_SECRET)
  --jwks-url URL      verify tokens with the identity provider's JWKS
  --dev-auth          DEVELOPMENT ONLY: anyone may get a token for any user (POST /v1/dev/token);
                      with PGlite its signing secret is kept in the data directory, so tokens
                      survive a restart; only on a loopback --host unless --dev-auth-public
  --dev-auth-public   allow --dev-auth on a non-loopback --host (anyone reaching it is anyone)
  --cors ORIGIN       allow browser apps from ORIGIN ('*' for any; default '*' with --dev-auth)
  --limits JSON       handler limits, e.g. '{"maxStreamsPerUser":5,"rateLimit":{"mutationsPerSecond":100}}'
                      ("rateLimit": false turns the per-user budgets off); see docs/server.md
  --stream-access-check-ms N   recheck each open event stream's scope access every N ms
                               (default 30000; 0 = never; a stream always ends with its token)
  --headers-timeout-ms N       time to send request headers (default 15000)
  --request-timeout-ms N       time to send a whole request, body included (default 60000)
  --keep-alive-timeout-ms N    idle keep-alive connections close after N ms (default 5000)`;

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
      'dev-auth-public': { type: 'boolean', default: false },
      limits: { type: 'string' },
      'stream-access-check-ms': { type: 'string' },
      'headers-timeout-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'keep-alive-timeout-ms': { type: 'string' },
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
  if (dev && !values['dev-auth-public'] && !isLoopback(values.host)) {
    fail(
      `refusing --dev-auth on --host ${values.host}: anyone who can reach it could sign in as any user.\nBind a loopback address (--host 127.0.0.1), or add --dev-auth-public if that is really what you want.`,
    );
  }
  const limits = values.limits === undefined ? undefined : parseLimits(values.limits);
  const streamAccessCheckMs = milliseconds(values, 'stream-access-check-ms');
  const timeouts = {
    ...optional('headersTimeoutMs', milliseconds(values, 'headers-timeout-ms')),
    ...optional('requestTimeoutMs', milliseconds(values, 'request-timeout-ms')),
    ...optional('keepAliveTimeoutMs', milliseconds(values, 'keep-alive-timeout-ms')),
  };
  if (dev) {
    const line = '!'.repeat(78);
    console.warn(
      `${line}\n!! DEVELOPMENT AUTH IS ON (--dev-auth): anyone who can reach this server can get a\n!! token for ANY user id with POST /v1/dev/token. Never use it in production.\n${line}`,
    );
  }

  const dataDir = values.data ?? './.syncline-data';
  // PGlite: startServer opens the store on the directory (and keeps the dev secret there).
  const store =
    databaseUrl !== undefined ? await postgresStore({ connectionString: databaseUrl }) : undefined;
  const cors = values.cors ?? (dev ? ['*'] : undefined);
  const server = await startServer({
    port,
    host: values.host,
    ...(store === undefined ? { dataDir } : { store }),
    devAuth: dev,
    // Asset bytes beside the PGlite data; with PostgreSQL, in ./.syncline-assets.
    blobStore: fileBlobStore({
      directory:
        databaseUrl !== undefined
          ? './.syncline-assets'
          : join(values.data ?? './.syncline-data', 'assets'),
    }),
    devAuthPublic: values['dev-auth-public'],
    timeouts,
    ...optional('limits', limits),
    ...optional('streamAccessCheckMs', streamAccessCheckMs),
    ...(authenticate === undefined ? {} : { authenticate }),
    ...(cors === undefined ? {} : { cors: { origins: cors.includes('*') ? '*' : cors } }),
  });
  console.log(
    `syncline-server listening on ${server.url} (${databaseUrl !== undefined ? 'PostgreSQL' : `PGlite at ${dataDir}`})`,
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
      .then(() => store?.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function milliseconds(values: Record<string, unknown>, flag: string): number | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (typeof value !== 'string' || !/^[0-9]{1,10}$/.test(value) || !Number.isSafeInteger(ms)) {
    fail(`--${flag} must be a whole number of milliseconds, got ${String(value)}`);
  }
  return ms;
}

function parseLimits(text: string): Partial<ServerLimits> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('--limits must be a JSON object, e.g. \'{"maxStreamsPerUser":5}\'');
  }
  if (!isPlainObject(value)) fail('--limits must be a JSON object');
  for (const [key, limit] of Object.entries(value)) {
    if (key === 'rateLimit') {
      if (limit === false) continue;
      if (!isPlainObject(limit)) fail('--limits: rateLimit must be false or an object');
      for (const [name, n] of Object.entries(limit)) {
        if (!RATE_LIMIT_KEYS.includes(name) || typeof n !== 'number' || !(n > 0)) {
          fail(`--limits: rateLimit.${name} is not a known positive budget`);
        }
      }
    } else if (!LIMIT_KEYS.includes(key) || typeof limit !== 'number' || !(limit >= 0)) {
      fail(`--limits: ${key} is not a known limit with a number value`);
    }
  }
  return value as Partial<ServerLimits>;
}

const LIMIT_KEYS = [
  'maxBodyBytes',
  'maxScopesPerStream',
  'maxStreamsPerUser',
  'pushConcurrencyPerUser',
  'maxQueuedPushesPerUser',
  'maxMutationsPerPush',
  'maxJsonDepth',
  'maxStringLength',
  'maxIdLength',
  'maxFieldsPerRecord',
  'maxPullLimit',
  'maxRecordBytes',
  'maxAssetBytes',
  'maxUserStorageBytes',
  'maxDeliveryTtlSeconds',
];
const RATE_LIMIT_KEYS = [
  'requestsPerSecond',
  'burst',
  'mutationsPerSecond',
  'mutationBurst',
  'bytesPerSecond',
  'byteBurst',
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  console.error(`syncline-server: ${message}\n\n${USAGE}`);
  process.exit(2);
}

main().catch((error: unknown) => {
  console.error('syncline-server failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
