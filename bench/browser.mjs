// @ts-check
/**
 * In real Chromium (the system's, never downloaded): the render cost of @syncline/react and W1
 * on IndexedDB beside memory storage. The page (bench/lib/browser-page.jsx) is bundled with
 * esbuild in production mode and served from a local HTTP server (IndexedDB needs an origin).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.SYNCLINE_CHROMIUM ?? '/usr/bin/chromium';

export const meta = {
  title: 'browser (Chromium)',
  runs: 1,
  nodeArgs: [],
  metrics: [
    {
      key: 'updateMs',
      label: 'patch 1 record of a 10,000-row list, to DOM',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'pageMs',
      label: '500-record pulled page, announced to DOM',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'pageRenders',
      label: 'renders of the list per pulled page',
      unit: '',
      target: 1,
      better: 'lower',
    },
    {
      key: 'w1IndexedDb',
      label: 'W1 on IndexedDB, 10,000 awaited puts',
      unit: 'puts/s',
      better: 'higher',
    },
    {
      key: 'w1IndexedDbStrict',
      label: 'W1 on IndexedDB with durability: strict',
      unit: 'puts/s',
      better: 'higher',
    },
    {
      key: 'w1IndexedDbBursts',
      label: 'IndexedDB, 10,000 puts in awaited bursts of 100',
      unit: 'puts/s',
      better: 'higher',
    },
    {
      key: 'idbFloor',
      label: 'raw IndexedDB, awaited 1-put transactions',
      unit: 'tx/s',
      better: 'higher',
    },
    {
      key: 'w1TransactionsPerPut',
      label: 'W1: IndexedDB write transactions per put',
      unit: '',
      better: 'lower',
    },
    {
      key: 'w1Memory',
      label: 'W1 on memory storage, same browser',
      unit: 'puts/s',
      better: 'higher',
    },
  ],
};

/** One measurement. */
export async function run() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set SYNCLINE_CHROMIUM)`);
  const { build } = await import('esbuild');
  const { launchChromium } = await import('../test/support/chromium.mjs');
  const bundle = await build({
    entryPoints: [join(here, 'lib/browser-page.jsx')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text ?? '';
  const server = createServer((request, response) => {
    if (request.url === '/page.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><body><script type="module" src="/page.js"></script></body>');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const browser = await launchChromium(CHROMIUM);
  try {
    const results = {};
    // Each part in a fresh page: no heap or JIT state carries over.
    // SYNCLINE_BROWSER_PARTS=w1,profile runs only those parts.
    const parts = process.env.SYNCLINE_BROWSER_PARTS?.split(',') ?? [
      'update',
      'page',
      'w1',
      'profile',
    ];
    for (const part of parts) {
      Object.assign(results, await runPart(browser, port, part));
    }
    return results;
  } finally {
    await browser.close();
    server.close();
  }
}

/**
 * @param {import('playwright-core').Browser} browser
 * @param {number} port
 * @param {string} part
 */
async function runPart(browser, port, part) {
  {
    const page = await browser.newPage();
    page.on('crash', () => console.error('the bench page crashed'));
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'runBench' in window);
    const result = await page.evaluate((name) => /** @type {any} */ (window).runBench(name), part);
    if (result.profile !== undefined) {
      printProfile(result.profile);
      delete result.profile;
    }
    console.error(`${part}: ${JSON.stringify(result)}`);
    await page.close();
    return result;
  }
}

/**
 * The breakdown of one awaited `put` on IndexedDB, to stderr (see w1Profile in
 * bench/lib/browser-w1.js).
 * @param {any} profile
 */
function printProfile(profile) {
  const fixed = (/** @type {number} */ value) => value.toFixed(2);
  const lines = [
    `one awaited put on IndexedDB (${Math.round(profile.putsPerSecond)} puts/s in this profile):`,
    ...Object.entries(profile.perPut).map(([name, value]) => `  ${name}: ${fixed(value)}`),
    `  storage ops by kind: ${Object.entries(profile.opsByKind)
      .map(([kind, value]) => `${kind} ${fixed(value)}`)
      .join(', ')}`,
    `  ms: apply ${fixed(profile.msPerPut.apply)}, wait for the commit ${fixed(profile.msPerPut.waitForCommit)}`,
    `  write transaction, created to complete: median ${fixed(profile.commitMsMedian)} ms, mean ${fixed(profile.commitMsMean)} ms`,
  ];
  console.error(lines.join('\n'));
}
