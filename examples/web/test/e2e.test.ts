/**
 * The example app in real Chromium against the real reference server (PGlite, dev sign-in):
 * two browser contexts are two devices of one user.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumPath, describeWhen } from '../../../test/support/env.js';
import { startExampleServer } from '../server.mjs';
import { AppPage, ensureBuilt, eventually, launchChromium } from './browser.js';

const chromium = chromiumPath();
const describeChromium = describeWhen(
  chromium,
  'Chromium (/usr/bin/chromium or SYNCLINE_CHROMIUM)',
  'apt-get install chromium',
);

describeChromium('example app in Chromium, two devices of one user', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof startExampleServer>>;

  beforeAll(async () => {
    await ensureBuilt();
    server = await startExampleServer({ port: 0 });
    browser = await launchChromium(chromium as string);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function twoDevices(userId: string) {
    const a = await AppPage.open(await browser.newContext(), server.url, 'a');
    const b = await AppPage.open(await browser.newContext(), server.url, 'b');
    await a.signIn(userId);
    await b.signIn(userId);
    await a.waitForBadge('Synced');
    await b.waitForBadge('Synced');
    return { a, b };
  }

  it('a todo added in A appears in B; B edits offline and both converge', async () => {
    const { a, b } = await twoDevices('e2e-live');
    await a.addTodo('Buy milk');
    await b.todo('Buy milk').waitFor({ timeout: 20_000 });
    await a.shot('01-added-in-a');
    await b.shot('01-appears-in-b');

    await b.page.context().setOffline(true);
    await b.waitForBadge('Offline');
    await b.renameTodo('Buy milk', 'Buy oat milk');
    await b.addTodo('Call mum');
    expect(await b.todo('Call mum').locator('[data-sync="pending"]').count()).toBe(1);
    await a.addTodo('Walk the dog');
    await b.shot('02-offline-edits');

    await b.page.context().setOffline(false);
    const expected = ['Buy oat milk', 'Call mum', 'Walk the dog'];
    await eventually(() => a.todoTitles(), expected);
    await eventually(() => b.todoTitles(), expected);
    await a.waitForBadge('Synced');
    await b.waitForBadge('Synced');
    await a.shot('03-converged');
    await b.shot('03-converged');
    a.expectNoErrors();
    b.expectNoErrors();
    await a.page.context().close();
    await b.page.context().close();
  }, 120_000);

  it('A reloads with pending writes and nothing is lost', async () => {
    const { a, b } = await twoDevices('e2e-reload');
    // The server is out of reach for syncing (the page itself still loads).
    await a.page.context().route('**/v1/**', (route) => route.abort('connectionrefused'));
    await a.addTodo('Pay rent');
    await a.addTodo('Book dentist');
    await a.page.reload();
    await a.todo('Pay rent').waitFor();
    await a.todo('Book dentist').waitFor();
    expect(await a.page.getByTestId('sync-pending').innerText()).toBe('2 pending');
    await a.shot('04-reloaded-with-pending');

    await a.page.context().unroute('**/v1/**');
    await a.page.context().setOffline(true);
    await a.page.context().setOffline(false); // the browser's 'online' event wakes the client now
    await eventually(() => b.todoTitles(), ['Book dentist', 'Pay rent']);
    await a.waitForBadge('Synced');
    await b.shot('05-pending-arrived');
    expect(await a.todoTitles()).toEqual(['Book dentist', 'Pay rent']);
    a.expectNoErrors();
    b.expectNoErrors();
    await a.page.context().close();
    await b.page.context().close();
  }, 120_000);

  it('the conflict panel shows both versions of a note and resolves a real conflict', async () => {
    const { a, b } = await twoDevices('e2e-conflict');
    await a.writeNote('Trip', 'Pack the tent');
    await b.note('Trip').waitFor({ timeout: 20_000 });

    await b.page.context().setOffline(true);
    await b.waitForBadge('Offline');
    await b.writeNote('Trip', 'Pack the tent and the stove', 'Trip');
    await a.writeNote('Trip', 'Pack the tent and maps', 'Trip');
    await a.waitForBadge('Synced');
    await b.page.context().setOffline(false);

    const conflict = b.page.getByTestId('conflict');
    await conflict.waitFor({ timeout: 20_000 });
    expect(await conflict.innerText()).toContain('Pack the tent and the stove');
    expect(await conflict.innerText()).toContain('Pack the tent and maps');
    await b.shot('06-conflict-panel');
    await conflict.getByRole('button', { name: "Keep this device's" }).click();
    await conflict.waitFor({ state: 'detached' });

    const body = (app: AppPage) => app.note('Trip').innerText();
    await eventually(async () => (await body(a)).includes('and the stove'), true);
    await eventually(async () => (await body(b)).includes('and the stove'), true);
    await a.waitForBadge('Synced');
    await b.waitForBadge('Synced');
    await a.shot('07-conflict-resolved');
    a.expectNoErrors();
    b.expectNoErrors();
    await a.page.context().close();
    await b.page.context().close();
  }, 120_000);

  it('two tabs of one browser: one owns the data, the other takes over when it closes', async () => {
    const context = await browser.newContext();
    const first = await AppPage.open(context, server.url, 'tab1');
    await first.signIn('e2e-tabs');
    await first.waitForBadge('Synced');
    await first.addTodo('From tab one');
    const second = await AppPage.open(context, server.url, 'tab2');
    await second.page.getByTestId('waiting').waitFor();
    await second.shot('08-second-tab-waits');

    await first.page.close();
    await second.todo('From tab one').waitFor({ timeout: 10_000 });
    await second.addTodo('From tab two');
    await second.waitForBadge('Synced');
    expect(await second.todoTitles()).toEqual(['From tab one', 'From tab two']);
    await second.shot('09-second-tab-took-over');
    second.expectNoErrors();
    await context.close();
  }, 120_000);
});
