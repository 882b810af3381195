// @ts-check
/**
 * The example app's server: the syncline reference server (PGlite, development sign-in) and the
 * built app on one origin, so the browser needs no CORS. `serve.mjs` runs it from the command
 * line; the end-to-end tests start it in-process.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncHandler, devAuth, pgliteStore } from '@syncline/server';
import { serve } from '@syncline/server/node';

const here = dirname(fileURLToPath(import.meta.url));

/** Where `build.mjs` puts the app. */
export const distDir = join(here, 'dist');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Answers a GET for a file of the built app; any other path gets index.html (one page).
 * @param {URL} url
 * @returns {Promise<Response>}
 */
async function staticFile(url) {
  const relative = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
  let file = join(distDir, relative);
  if (!file.startsWith(distDir + sep) && file !== distDir) {
    return new Response('not found', { status: 404 });
  }
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) file = join(distDir, 'index.html');
  const body = await readFile(file).catch(() => undefined);
  if (body === undefined) {
    return new Response('The app is not built: run `npm run build`.', { status: 503 });
  }
  const type = TYPES[/** @type {keyof TYPES} */ (extname(file))] ?? 'application/octet-stream';
  return new Response(body, { headers: { 'content-type': type, 'cache-control': 'no-cache' } });
}

/**
 * @typedef {object} ExampleServerOptions
 * @property {number} [port] TCP port; 0 picks a free one (default 8787)
 * @property {string} [host] interface (default 127.0.0.1)
 * @property {string} [dataDir] PGlite data directory; in memory when absent
 * @property {(request: unknown, answer: unknown) => void} [onPush] told every answered push
 *   (request and answer bodies): the end-to-end tests count what the server applied
 */

/**
 * Starts the reference server with development sign-in and the app on one origin.
 * @param {ExampleServerOptions} [options]
 */
export async function startExampleServer(options = {}) {
  const store = await pgliteStore(
    options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  );
  const handler = createSyncHandler({ store, ...devAuthParts() });
  const running = await serve(
    (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/v1/push' && options.onPush !== undefined) {
        return observePush(request, handler, options.onPush);
      }
      if (url.pathname.startsWith('/v1/') || url.pathname === '/healthz') return handler(request);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return Promise.resolve(new Response('method not allowed', { status: 405 }));
      }
      return staticFile(url);
    },
    { port: options.port ?? 8787, host: options.host ?? '127.0.0.1' },
  ).catch(async (error) => {
    await store.close();
    throw error;
  });
  return {
    url: running.url,
    async close() {
      handler.closeStreams();
      await running.close();
      await store.close();
    },
  };
}

/**
 * Answers a push and tells `onPush` its request and answer bodies.
 * @param {Request} request
 * @param {(request: Request) => Promise<Response>} handler
 * @param {(request: unknown, answer: unknown) => void} onPush
 */
async function observePush(request, handler, onPush) {
  const body = await request.clone().text();
  const response = await handler(request);
  if (response.ok) {
    const answer = await response
      .clone()
      .json()
      .catch(() => null);
    if (answer !== null) onPush(JSON.parse(body), answer);
  }
  return response;
}

function devAuthParts() {
  const dev = devAuth();
  return { authenticate: dev.authenticate, devAuth: dev };
}
