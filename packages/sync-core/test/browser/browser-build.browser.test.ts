/**
 * sync-core's browser build (`dist/browser.js`, which the package's `browser` export condition
 * gives a bundler building for browsers) in Debian's Chromium: bundled as an app installed from
 * npm bundles it (esbuild, no tsconfig paths), a client made without `storage` keeps its data in
 * IndexedDB, so a write is still there, and still pending, after a reload. Reads the built
 * dist/ (`npm test` builds first).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../../../test/support/chromium.mjs';
import { chromiumPath, describeWhen } from '../../../../test/support/env.js';

const executablePath = chromiumPath();
const root = fileURLToPath(new URL('../../../..', import.meta.url));

const PAGE = `
import { createSyncClient } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';
globalThis.visit = async (write) => {
  const client = createSyncClient({ transport: createMemoryServer().connect({ userId: 'u1' }) });
  await client.start();
  if (write) await client.put('todos', 't1', { title: 'kept' });
  const seen = client.get('todos', 't1') ?? null;
  const pending = client.status.pending;
  await client.stop();
  return { seen, pending };
};`;

describeWhen(executablePath, 'Chromium', 'apt-get install chromium')(
  'the browser build in Chromium',
  { timeout: 90_000 },
  () => {
    let server: Server;
    let browser: Browser;
    let page: Page;
    let inputs: string[];

    beforeAll(async () => {
      const bundle = await build({
        stdin: { contents: PAGE, resolveDir: root, loader: 'js' },
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        tsconfigRaw: {},
        metafile: true,
        logLevel: 'silent',
      });
      inputs = Object.keys(bundle.metafile.inputs);
      const script = bundle.outputFiles[0]?.text ?? '';
      server = createServer((request, response) => {
        if (request.url === '/page.js') {
          response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
        } else {
          response
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<!doctype html><script type="module" src="/page.js"></script>');
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      browser = await launchChromium(executablePath as string);
      page = await browser.newPage();
      page.on('pageerror', (error) => console.error('page error:', error));
    });

    afterAll(async () => {
      await browser?.close();
      server?.close();
    });

    async function visit(write: boolean): Promise<{ seen: unknown; pending: number }> {
      await page.waitForFunction(() => 'visit' in globalThis);
      return page.evaluate(
        (w) => (globalThis as never as { visit: (w: boolean) => never }).visit(w),
        write,
      );
    }

    it('is what a browser bundle of the package gets', () => {
      expect(inputs).toContain('packages/sync-core/dist/browser.js');
      expect(inputs).not.toContain('packages/sync-core/dist/index.js');
    });

    it('keeps a write made without `storage` in IndexedDB, across a reload', async () => {
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      expect(await visit(true)).toEqual({ seen: { title: 'kept' }, pending: 1 });
      await page.reload();
      expect(await visit(false)).toEqual({ seen: { title: 'kept' }, pending: 1 });
    });
  },
);
