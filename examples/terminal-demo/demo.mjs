#!/usr/bin/env node
// @ts-check
/**
 * syncline terminal demo (`npm start` at the repository root).
 *
 * Starts the reference server (`syncline-server --dev-auth` on its embedded PGlite, data in a
 * temporary directory), signs two devices of one user in, and runs them through
 * `restTransport` over HTTP: they write, go offline, edit the same todo, reconnect and resolve
 * the conflict. Then the server keeps running so you can point your own app at it; Ctrl-C
 * stops it.
 *
 *   node demo.mjs [--once] [--port 8787] [--memory]
 *
 * --once      exit after the demo (also SYNCLINE_DEMO_ONCE=1); the demo's test uses it
 * --port N    the server's port (default 8787, or $PORT)
 * --memory    no HTTP server: both devices use the in-memory server from
 *             `@syncline/sync-core/testing` (also the fallback when the server is not built)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devSignIn, restTransport } from '@syncline/adapter-rest';
import { createSessionSource } from '@syncline/sync-core';
import { createMemoryServer, withFaults } from '@syncline/sync-core/testing';
import { createDevice } from './lib/device.mjs';
import { createNetworkSwitch } from './lib/network-switch.mjs';
import { say } from './lib/print.mjs';
import { serverCliPath, startServer } from './lib/server-process.mjs';
import { runStory } from './lib/story.mjs';

const { values: flags } = parseArgs({
  options: {
    once: { type: 'boolean', default: process.env.SYNCLINE_DEMO_ONCE === '1' },
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    memory: { type: 'boolean', default: false },
  },
});
const port = Number(flags.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${flags.port}`);
  process.exit(2);
}

const USER = 'alice';

async function main() {
  console.log('syncline terminal demo: two devices of one user, syncing\n');
  const cli = flags.memory ? undefined : serverCliPath();
  if (!flags.memory && !cli) {
    say('demo', 'the reference server is not built (npm run build); using the in-memory server');
  }
  return cli ? runOverHttp(cli) : runInMemory();
}

/** @param {string} cli */
async function runOverHttp(cli) {
  const dataDir = mkdtempSync(join(tmpdir(), 'syncline-demo-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const server = await startServer({
    cli,
    port,
    dataDir,
    log: (line) => say('server', line),
  }).catch((error) => {
    removeData();
    throw error;
  });
  say('server', `answering at ${server.baseUrl} (embedded PGlite in ${dataDir}, dev auth)`);

  const devices = [];
  try {
    for (const name of ['phone', 'laptop']) {
      const network = createNetworkSwitch({ name, debug: process.env.SYNCLINE_DEMO_DEBUG === '1' });
      const signedIn = await devSignIn({
        baseUrl: server.baseUrl,
        userId: USER,
        fetch: network.fetch,
      });
      say(name, `signed in as ${signedIn.userId} (session ${signedIn.sessionId})`);
      const transport = restTransport({
        baseUrl: server.baseUrl,
        getToken: () => signedIn.token,
        session: createSessionSource({ userId: signedIn.userId, sessionId: signedIn.sessionId }),
        fetch: network.fetch,
      });
      devices.push(createDevice({ name, transport, network }));
    }
    await Promise.all(devices.map((device) => device.client.start()));
    const [phone, laptop] = devices;
    if (!phone || !laptop) throw new Error('two devices expected');
    await runStory({ phone, laptop });
  } catch (error) {
    // Never leave the server behind: it would hold the port for the next run.
    await server.stop();
    removeData();
    throw error;
  } finally {
    await Promise.all(devices.map((device) => device.client.stop()));
  }

  if (flags.once) {
    await server.stop();
    removeData();
    say('demo', 'done (--once): server stopped');
    return;
  }
  console.log(
    `\nThe server keeps running at ${server.baseUrl} with development sign-in:` +
      `\n  POST ${server.baseUrl}/v1/dev/token {"userId":"you"} gives a token for restTransport.` +
      '\nPress Ctrl-C to stop it.',
  );
  const shutdown = async () => {
    say('demo', 'stopping the server');
    await server.stop();
    removeData();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  const code = await server.exited;
  removeData();
  throw new Error(`syncline-server exited unexpectedly (code ${code})`);
}

async function runInMemory() {
  const server = createMemoryServer();
  say('server', 'in-memory protocol server from @syncline/sync-core/testing');
  const devices = ['phone', 'laptop'].map((name) => {
    const network = createNetworkSwitch({ name });
    // The testing kit's fault wrapper plays the network: offline fails every request.
    const transport = withFaults(server.connect({ userId: USER }), {});
    network.online.subscribe((online) => transport.setOffline(!online));
    return createDevice({ name, transport, network });
  });
  try {
    await Promise.all(devices.map((device) => device.client.start()));
    const [phone, laptop] = devices;
    if (!phone || !laptop) throw new Error('two devices expected');
    await runStory({ phone, laptop });
  } finally {
    await Promise.all(devices.map((device) => device.client.stop()));
  }
  say('demo', 'done');
}

main().then(
  // Only a finished demo gets here (a running server never returns): exit even if a socket
  // or timer of a stopped client lingers.
  () => process.exit(0),
  (error) => {
    say('error', error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
