/**
 * The Next.js App Router check of @syncline/react (issue 13, "SSR-safe"): `next build` of the
 * app in this folder (a server component rendering a 'use client' component that holds the
 * client and the hooks), `next start`, then real Chromium: the first client render matches the
 * server's HTML (no hydration warning in the console) and the hooks work after hydration.
 *
 * Not part of `npm test`: `next build` takes 30–90 s and the app's install is ~360 MB. Run it
 * with `npm run test:next` after `npm install --prefix test/next-app` (.ci/run does both); it
 * skips loudly without them (fails under SYNCLINE_REQUIRE_ALL=1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.mjs';
import { chromiumPath, describeWhen } from '../support/env.js';

const app = dirname(fileURLToPath(import.meta.url));
const nextBin = join(app, 'node_modules', 'next', 'dist', 'bin', 'next');
const chromium = chromiumPath();
const describeNext = describeWhen(
  existsSync(nextBin) && chromium,
  'Next.js (test/next-app/node_modules) and Chromium',
  'npm install --prefix test/next-app, and apt-get install chromium',
);

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [nextBin, ...args], {
    cwd: app,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<string> {
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`next exited with ${code}:\n${output}`)),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

describeNext('@syncline/react in a Next.js App Router app', () => {
  let browser: Browser;
  let server: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    // webpack: Turbopack (the default) applies the monorepo's TypeScript paths to the
    // packages' dist files and resolves them to sources; an app installed from npm has none.
    await finished(run(['build', '--webpack']));
    const port = await freePort();
    server = run(['start', '-p', String(port), '-H', '127.0.0.1']);
    url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('next start did not answer');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    browser = await launchChromium(chromium as string);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  it('renders on the server, hydrates without a mismatch, and the hooks work after', async () => {
    const html = await (await fetch(url)).text();
    // The client component's hooks rendered on the server with their fixed server values.
    expect(html).toContain('rendered by a server component');
    expect(html).toMatch(/data-testid="status"[^>]*data-state="local"/);

    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') console.push(message.text());
    });
    page.on('pageerror', (error) => console.push(error.message));
    await page.goto(url);
    await page.getByLabel('new todo').fill('Water the plants');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.locator('[data-testid="todo"]:text-is("Water the plants")').waitFor();
    await page.locator('[data-testid="status"]:has-text("1 pending")').waitFor();
    // A reload reads it back from IndexedDB, after a hydration that matched again.
    await page.reload();
    await page.locator('[data-testid="todo"]:text-is("Water the plants")').waitFor();
    const problems = console.filter((text) => !text.startsWith('Failed to load resource'));
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
