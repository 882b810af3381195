/**
 * Helpers of the example app's end-to-end tests: Chromium from the system (never downloaded),
 * the app's server in-process, and a page object for the app's controls.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { CHROMIUM_ARGS } from '../../../test/support/chromium.mjs';

export { launchChromium } from '../../../test/support/chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the screenshots of every step go (named in the README; gitignored). */
export const SCREENSHOTS = join(here, '../../../test-results/e2e');

/** Builds the app when its bundle is missing (a fresh checkout that ran no build). */
export async function ensureBuilt(): Promise<void> {
  if (!existsSync(join(here, '../dist/app.js'))) await import('../build.mjs' as string);
}

/**
 * A Chromium of its own, whose default context's pages the DevTools protocol can freeze
 * (`Page.setWebLifecycleState`). Playwright emulates focus in the pages it opens
 * (`Emulation.setFocusEmulationEnabled`), which keeps a page visible, and Chromium does not
 * freeze a visible page: so this Chromium is started with a DevTools port and Playwright
 * connects to it with `noDefaults`, which leaves focus emulation off in the default context
 * (one browser profile: its pages are tabs of one app). Returns that context, what opens a page
 * in a window of its own (visible, as each page of `browser.newContext()` is: a tab behind
 * another in one window is hidden, and draws nothing), and what closes the browser and deletes
 * its profile.
 */
export async function launchFreezableChromium(executablePath: string): Promise<{
  context: BrowserContext;
  newWindow(): Promise<Page>;
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'syncline-e2e-'));
  const child = spawn(
    executablePath,
    [...CHROMIUM_ARGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (found !== null) resolve(found[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}): ${output}`)));
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  const context = browser.contexts()[0];
  if (context === undefined) throw new Error('Chromium has no default context');
  const cdp = await browser.newBrowserCDPSession();
  return {
    context,
    async newWindow() {
      const opened = context.waitForEvent('page');
      await cdp.send('Target.createTarget', { url: 'about:blank', newWindow: true });
      return opened;
    },
    async close() {
      // Chromium is asked to quit through the protocol: `/usr/bin/chromium` is a shell script,
      // so a signal to the process spawned here would not reach the browser.
      const exited = new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
        else child.once('exit', resolve);
      });
      await cdp.send('Browser.close').catch(() => {});
      await browser.close();
      await exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The example app in one page. */
export class AppPage {
  readonly page: Page;
  readonly name: string;
  readonly errors: string[] = [];

  constructor(page: Page, name: string) {
    this.page = page;
    this.name = name;
    page.on('pageerror', (error) => this.errors.push(error.message));
  }

  /** Chromium's storage quota for the page's origin, when `open` was given `quotaBytes`. */
  #quota: { cdp: CDPSession; origin: string; bytes: number } | undefined;

  /**
   * Opens the app in a new page of `context`. With `quotaBytes`, Chromium's storage quota of
   * the app's origin is that many bytes (DevTools protocol, for this page's life) before the app
   * stores anything: see {@link fillStorage}.
   */
  static async open(
    context: BrowserContext,
    url: string,
    name: string,
    quotaBytes?: number,
  ): Promise<AppPage> {
    const app = new AppPage(await context.newPage(), name);
    if (quotaBytes !== undefined) {
      const cdp = await context.newCDPSession(app.page);
      const origin = new URL(url).origin;
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: quotaBytes });
      app.#quota = { cdp, origin, bytes: quotaBytes };
    }
    await app.page.goto(url);
    return app;
  }

  async signIn(userId: string): Promise<void> {
    await this.page.getByLabel('user id').fill(userId);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.page.getByTestId('signed-in-as').waitFor();
  }

  badge(): Promise<string> {
    return this.page.getByTestId('sync-label').innerText();
  }

  /** The badge's last-synced time: its text and the epoch ms it shows (null: not synced yet). */
  async lastSynced(): Promise<{ text: string; at: number | null }> {
    const span = this.page.getByTestId('sync-last');
    const at = await span.getAttribute('data-synced-at');
    return {
      text: (await span.textContent()) ?? '',
      at: at === null || at === '' ? null : Number(at),
    };
  }

  /** `last synced <time>` as the page's locale formats epoch ms `at`. */
  lastSyncedText(at: number): Promise<string> {
    return this.page.evaluate((ms) => `last synced ${new Date(ms).toLocaleTimeString()}`, at);
  }

  async waitForBadge(label: string, timeout = 20_000): Promise<void> {
    await this.page.locator(`[data-testid="sync-label"]:text-is("${label}")`).waitFor({ timeout });
  }

  async addTodo(title: string): Promise<void> {
    await this.page.getByLabel('new todo').fill(title);
    await this.page.getByRole('button', { name: 'Add' }).click();
    await this.todo(title).waitFor();
  }

  todo(title: string) {
    return this.page.locator(`[data-testid="todo"][data-title="${title}"]`);
  }

  async renameTodo(from: string, to: string): Promise<void> {
    await this.todo(from).getByRole('button', { name: 'Rename' }).click();
    await this.page.getByLabel('new title').fill(to);
    await this.page.getByLabel('new title').press('Enter');
    await this.todo(to).waitFor();
  }

  async todoTitles(): Promise<string[]> {
    const titles = await this.page
      .locator('[data-testid="todo"]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-title') ?? ''));
    return titles.sort();
  }

  /** The record ids of the todos shown. */
  todoIds(): Promise<string[]> {
    return this.page
      .locator('[data-testid="todo"]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
  }

  note(title: string) {
    return this.page.locator(`[data-testid="note"][data-title="${title}"]`);
  }

  async writeNote(title: string, body: string, existing?: string): Promise<void> {
    if (existing === undefined) {
      await this.page.getByRole('button', { name: 'New note' }).click();
    } else {
      await this.note(existing).getByRole('button').click();
    }
    await this.page.getByLabel('note title').fill(title);
    await this.page.getByLabel('note body').fill(body);
    await this.page.getByRole('button', { name: 'Save note' }).click();
    await this.note(title).waitFor();
  }

  /** `leader`, `follower` or `solo` (see SyncClient.tabRole). */
  tabRole(): Promise<string | null> {
    return this.page.getByTestId('tab-role').getAttribute('data-role');
  }

  /**
   * Makes the browser's storage full for this page's origin: Chromium's quota for it (set at
   * `open` with `quotaBytes`) is lowered below what the app already stores, so IndexedDB refuses
   * every write with `QuotaExceededError`. Chromium approves a write from its cached figure of
   * the space left (for up to about 30 s after it last asked its quota manager; measured: writes
   * 15 s after lowering pass, 31 s after are refused) unless the write is larger than that
   * figure: so one write larger than the quota set at `open` is made to a probe database of the
   * origin (refused; from then on Chromium asks again on every write). Returns what gives the
   * room back.
   */
  async fillStorage(): Promise<() => Promise<void>> {
    const { cdp, origin, bytes } = this.#quota ?? {};
    if (cdp === undefined || origin === undefined || bytes === undefined) {
      throw new Error(`${this.name}: open the page with quotaBytes to fill its storage`);
    }
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 });
    const restore = () => cdp.send('Storage.overrideQuotaForOrigin', { origin }).then(() => {});
    const probe = await this.page.evaluate(probeWrite, bytes + 1024);
    if (probe !== 'QuotaExceededError') {
      await restore();
      throw new Error(`${this.name}: storage not full (a probe write answered ${probe})`);
    }
    return restore;
  }

  async shot(step: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: join(SCREENSHOTS, `${step}-${this.name}.png`) });
  }

  expectNoErrors(): void {
    expect(this.errors, `page errors in ${this.name}`).toEqual([]);
  }
}

/**
 * Counts what the server applied, from its answers to pushes (see `onPush` of the example
 * server): per record id, the revisions at which a mutation was applied to it. A write pushed
 * twice under two mutation ids shows as two revisions; a mutation sent again under its own id
 * is answered with its stored outcome (the same revision).
 */
export class AppliedMutations {
  readonly byRecord = new Map<string, Set<number>>();

  /** Pass to `startExampleServer({ onPush })`. */
  readonly onPush = (request: unknown, answer: unknown): void => {
    const { mutations } = request as { mutations: Array<{ recordId: string }> };
    const { results } = answer as { results: Array<{ status: string; revision?: number }> };
    results.forEach((result, index) => {
      const recordId = mutations[index]?.recordId;
      if (result.status !== 'applied' || recordId === undefined) return;
      const revisions = this.byRecord.get(recordId) ?? new Set<number>();
      revisions.add(result.revision as number);
      this.byRecord.set(recordId, revisions);
    });
  };

  /** How many times each of `recordIds` was applied. */
  counts(recordIds: readonly string[]): number[] {
    return recordIds.map((id) => this.byRecord.get(id)?.size ?? 0);
  }
}

/** Polls `read` until it equals `expected` (deep), or fails with the last value. */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  expect(last).toEqual(expected);
}

/**
 * In the page: writes `chars` random characters (which no compression shrinks) to a database of
 * its own; `ok`, or the name of the error the transaction aborted with.
 */
async function probeWrite(chars: number): Promise<string> {
  const bytes = new Uint8Array(chars);
  // getRandomValues fills at most 64 KiB per call.
  for (let i = 0; i < chars; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  const parts: string[] = [];
  for (let i = 0; i < chars; i += 8192)
    parts.push(String.fromCharCode(...bytes.subarray(i, i + 8192)));
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('e2e-quota-probe', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('probe');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    return await new Promise<string>((resolve) => {
      const tx = db.transaction('probe', 'readwrite');
      tx.objectStore('probe').put(parts.join(''), 'probe');
      tx.oncomplete = () => resolve('ok');
      tx.onabort = () => resolve(tx.error?.name ?? 'aborted');
    });
  } finally {
    db.close();
  }
}
