/**
 * The IndexedDB storage in a real browser: Debian's Chromium, driven by playwright-core.
 * The adapter and the storage contract are bundled with esbuild and served from 127.0.0.1;
 * every contract check runs in the page against the real IndexedDB. Then durability across
 * a page reload and across a browser restart (same profile directory), and a second tab
 * upgrading the database under an open connection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumPath, describeWhen } from '../../../../test/support/env.js';
import { type PageServer, servePage } from '../../../../test/support/page-server.js';
import { contractChecks } from '../storage/contract.js';
import type { PageApi, PageResult } from './indexeddb-page.js';

const executablePath = chromiumPath();
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describeWhen(
  executablePath,
  'Chromium',
  'apt-get install chromium',
  // A real browser on a shared 2-core machine: generous per-test time, never a timing assert.
)('indexedDbStorage in Chromium (real IndexedDB)', { timeout: 90_000 }, () => {
  let server: PageServer;
  let origin: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  /** A persistent profile on disk, so IndexedDB is the real on-disk store. */
  async function launch(): Promise<void> {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: executablePath as string,
      headless: true,
      args: ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => console.error('page error:', error));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'syncline' in globalThis);
  }

  async function call<K extends keyof PageApi>(
    target: Page,
    method: K,
    ...args: PageApi[K] extends (...a: infer A) => unknown ? A : never
  ): Promise<PageResult> {
    return target.evaluate(
      ([name, params]) => {
        const api = (
          globalThis as unknown as {
            syncline: Record<string, (...a: unknown[]) => Promise<PageResult>>;
          }
        ).syncline;
        return (api[name] as (...a: unknown[]) => Promise<PageResult>)(...(params as unknown[]));
      },
      [method, args] as const,
    );
  }

  beforeAll(async () => {
    server = await servePage(
      fileURLToPath(new URL('./indexeddb-page.ts', import.meta.url)),
      'syncline idb',
    );
    origin = server.origin;
    profile = await mkdtemp(join(tmpdir(), 'syncline-chromium-'));
    await launch();
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('bundles every contract check into the page', async () => {
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { syncline: PageApi }).syncline.checkNames,
      ),
    ).toEqual(contractChecks.map((check) => check.name));
  });

  for (const check of contractChecks) {
    it(`contract: ${check.name}`, async () => {
      const result = await call(page, 'runCheck', check.name);
      expect(result.message ?? '').toBe('');
      expect(result.ok).toBe(true);
    });
  }

  const ops = [
    { type: 'set', key: 'todo/1', value: { title: 'written before reload', done: false } },
    { type: 'set', key: 'todo/2', value: 'ü😀' },
    { type: 'delete', key: 'todo/1' },
    { type: 'set', key: 'todo/3', value: [1, 2, 3] },
  ] as const;
  const expected = [
    ['todo/2', 'ü😀'],
    ['todo/3', [1, 2, 3]],
  ];

  it('a resolved write survives a page reload', async () => {
    const written = await call(page, 'writeBeforeReload', 'reload-db', [...ops]);
    expect(written).toEqual({ ok: true });
    await page.reload();
    await page.waitForFunction(() => 'syncline' in globalThis);
    expect(await call(page, 'readAfterReload', 'reload-db')).toEqual({ ok: true, value: expected });
  });

  it('a resolved write survives a browser restart on the same profile', async () => {
    const written = await call(page, 'writeBeforeReload', 'restart-db', [...ops]);
    expect(written).toEqual({ ok: true });
    await context.close();
    await launch();
    expect(await call(page, 'readAfterReload', 'restart-db')).toEqual({
      ok: true,
      value: expected,
    });
    // The reload database from the previous test is still there too.
    expect(await call(page, 'readAfterReload', 'reload-db')).toEqual({ ok: true, value: expected });
  });

  it('rejects a batch over the real quota with a storage error, applying none of it', async () => {
    // Chromium's own quota enforcement, lowered through the DevTools protocol so the test
    // does not have to fill the disk.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 4 * 1024 * 1024 });
    try {
      expect(await call(page, 'writeLarge', 'quota-db', 'small', 1_000)).toEqual({ ok: true });
      const failed = await call(page, 'writeLarge', 'quota-db', 'huge', 12 * 1024 * 1024);
      expect(failed.ok).toBe(false);
      expect(failed.value).toMatchObject({
        name: 'SyncError',
        kind: 'storage',
        code: 'quota_exceeded',
        causeName: 'QuotaExceededError',
      });
      expect(await call(page, 'listQuota', 'quota-db')).toEqual({
        ok: true,
        value: ['small', 'small/marker'],
      });
      // The database still takes writes that fit.
      expect(await call(page, 'writeLarge', 'quota-db', 'later', 1_000)).toEqual({ ok: true });
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
      await cdp.detach();
    }
  });

  it('keeps working when another tab upgrades the database under an open connection', async () => {
    expect(await call(page, 'holdAndWrite', 'tabs-db', 'one', 'from tab 1')).toEqual({ ok: true });
    const second = await context.newPage();
    await second.goto(`${origin}/`);
    await second.waitForFunction(() => 'syncline' in globalThis);
    // Store "two" is missing, so tab 2 opens the database one version up (versionchange in tab 1).
    expect(await call(second, 'holdAndWrite', 'tabs-db', 'two', 'from tab 2')).toEqual({
      ok: true,
    });
    expect(await call(page, 'useHeld', 'tab 1 again')).toEqual({
      ok: true,
      value: [
        ['k', 'from tab 1'],
        ['k2', 'tab 1 again'],
      ],
    });
    expect(await call(second, 'readStore', 'tabs-db', 'two')).toEqual({
      ok: true,
      value: [['k', 'from tab 2']],
    });
    await second.close();
  });

  it('every resolved write survives a crash of the tab; a batch in flight is whole or absent', async () => {
    const batches = 300;
    const written = await call(page, 'writeThenLeaveInFlight', 'crash-db', batches, 50);
    expect(written.ok).toBe(true);
    expect([...(written.value as number[])].sort((a, b) => a - b)).toEqual(
      Array.from({ length: batches }, (_, n) => n),
    );
    // Kill the renderer at once: relaxed durability promises that a write whose promise
    // resolved is with the browser's storage process (and the OS), not in this tab.
    const crashed = page.waitForEvent('crash');
    await page.goto('chrome://crash').catch(() => undefined);
    await crashed;
    await page.close();
    page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'syncline' in globalThis);
    const read = await call(page, 'readCrash', 'crash-db');
    expect(read.ok).toBe(true);
    const stored = new Map(read.value as Array<[string, unknown]>);
    for (let n = 0; n < batches; n++) {
      expect(stored.get(`${n}`)).toEqual({ n });
      expect(stored.get(`${n}/pair`)).toBe(n);
    }
    for (let n = batches; n < batches + 50; n++) {
      expect(stored.has(`${n}/pair`)).toBe(stored.has(`${n}`));
    }
  });
});
