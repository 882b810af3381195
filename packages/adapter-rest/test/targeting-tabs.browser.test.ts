/**
 * Issue 12's "exactly once across several tabs" in a real browser: two tabs of one origin in
 * Debian's Chromium (playwright-core), one session, the packages' browser builds with their
 * defaults (IndexedDB, Web Locks), against the real server over HTTP. Each delivery, and an
 * asset's, is handed to one tab's listener once in all, and a reload hands nothing again.
 * Bundled from dist/ as an app gets it (`npm test` builds first).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionSource, createSyncClient, memoryStorage } from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { chromiumPath, describeWhen } from '../../../test/support/env.js';
import { type PageServer, servePage } from '../../../test/support/page-server.js';
import { startServer } from '../../server/src/node.js';
import { devSignIn, restTransport } from '../src/index.js';
import { restTargeting } from '../src/targeting.js';

const executablePath = chromiumPath();

describeWhen(executablePath, 'Chromium', 'apt-get install chromium')(
  'deliveries to two tabs of one session in Chromium',
  { timeout: 120_000 },
  () => {
    let api: Awaited<ReturnType<typeof startServer>>;
    let web: PageServer;
    let origin: string;
    let profile: string;
    let context: BrowserContext;

    beforeAll(async () => {
      api = await startServer({ port: 0, devAuth: true, cors: { origins: '*' } });
      web = await servePage(
        fileURLToPath(new URL('./support/targeting-tabs-page.ts', import.meta.url)),
        'syncline tabs',
      );
      origin = web.origin;
      profile = await mkdtemp(join(tmpdir(), 'syncline-tabs-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: executablePath as string,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
      });
    });

    afterAll(async () => {
      await context?.close();
      await web?.close();
      await api?.close();
      if (profile !== undefined) await rm(profile, { recursive: true, force: true });
    });

    async function openTab(signed: { token: string; sessionId: string }, reuse?: Page) {
      const page = reuse ?? (await context.newPage());
      page.on('pageerror', (error) => console.error('page error:', error));
      if (reuse === undefined) await page.goto(`${origin}/`);
      else await page.reload();
      await page.waitForFunction(() => 'start' in globalThis);
      const clientId = await page.evaluate(
        ([baseUrl, token, sessionId]) =>
          (
            globalThis as unknown as {
              start(b: string, t: string, u: string, s: string): Promise<string | null>;
            }
          ).start(baseUrl, token, 'u1', sessionId),
        [api.url, signed.token, signed.sessionId] as const,
      );
      return { page, clientId };
    }

    const received = (page: Page) =>
      page.evaluate(() => (globalThis as unknown as { received: string[] }).received);

    it('each delivery runs in one tab once, the asset downloaded first; a reload runs none again', async () => {
      const tabSession = await devSignIn({ baseUrl: api.url, userId: 'u1' });
      const one = await openTab(tabSession);
      const two = await openTab(tabSession);
      expect(two.clientId).toBe(one.clientId); // one installation: the storage is shared
      const sender = await devSignIn({ baseUrl: api.url, userId: 'u1' });
      const desktop = createSyncClient({
        transport: restTransport({
          baseUrl: api.url,
          getToken: () => sender.token,
          session: createSessionSource({ userId: 'u1', sessionId: sender.sessionId }),
          targeting: restTargeting(),
        }),
        storage: memoryStorage(),
        targeting: sessionTargeting(),
      });
      await desktop.start();
      try {
        const ids: string[] = [];
        for (let i = 0; i < 12; i++) {
          ids.push((await desktop.deliveries.send({ kind: 'note', payload: { i } })).id);
        }
        const sent = await desktop.assets.send(new Uint8Array(150_000).fill(7), { name: 'f.bin' });
        ids.push(sent.delivery.id);
        await vi.waitFor(
          async () => {
            for (const id of ids) expect((await desktop.deliveries.status(id)).complete).toBe(true);
          },
          { timeout: 60_000, interval: 200 },
        );
        const handed = [...(await received(one.page)), ...(await received(two.page))];
        expect(handed.filter((entry) => !entry.startsWith('asset:')).sort()).toEqual(
          [...ids].sort(),
        );
        expect(handed.filter((entry) => entry.startsWith('asset:'))).toEqual(['asset:150000']);
        await openTab(tabSession, one.page);
        const late = await desktop.deliveries.send({ kind: 'note', payload: { late: true } });
        await vi.waitFor(
          async () => expect((await desktop.deliveries.status(late.id)).complete).toBe(true),
          { timeout: 30_000, interval: 200 },
        );
        // The reloaded tab handed none of the earlier ones again; the late one ran once.
        expect((await received(one.page)).filter((entry) => ids.includes(entry))).toEqual([]);
        const after = [...(await received(one.page)), ...(await received(two.page))];
        expect(after.filter((entry) => entry === late.id)).toHaveLength(1);
      } finally {
        await desktop.stop();
      }
    });
  },
);
