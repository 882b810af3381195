/**
 * docs/sessions.md promises that its snippets are the three stories "as runnable code": this
 * runs them, as written and in order, on the in-memory server (what the guide imports). Only
 * the guide's stand-ins for app code (`readFileAsStream`, `render`) are given here, and its
 * `console.log` is recorded to check what the stories say happens.
 */
import { readFileSync } from 'node:fs';
import * as core from '@syncline/sync-core';
import * as targeting from '@syncline/sync-core/targeting';
import * as testing from '@syncline/sync-core/testing';
import ts from 'typescript';
import { expect, it, vi } from 'vitest';

const MODULES: Record<string, Record<string, unknown>> = {
  '@syncline/sync-core': core,
  '@syncline/sync-core/targeting': targeting,
  '@syncline/sync-core/testing': testing,
};

/** The guide's TypeScript blocks as one script, its imports read from {@link MODULES}. */
function guideScript(): string {
  const guide = readFileSync(new URL('../../../docs/sessions.md', import.meta.url), 'utf8');
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const source = blocks
    .join('\n')
    .replace(
      /import\s*\{([^}]*)\}\s*from\s*'([^']+)';/g,
      (_, names: string, from: string) => `const {${names}} = modules[${JSON.stringify(from)}];`,
    );
  expect(source).not.toMatch(/^\s*import /m);
  return ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
}

it("the guide's three stories run as written, with the outcomes they describe", async () => {
  const clients: core.SyncClient[] = [];
  const modules = {
    ...MODULES,
    '@syncline/sync-core': {
      ...core,
      createSyncClient: (options: Parameters<typeof core.createSyncClient>[0]) => {
        const client = core.createSyncClient(options);
        clients.push(client);
        return client;
      },
    },
  };
  const logged: unknown[][] = [];
  const console = { log: (...args: unknown[]) => logged.push(args) };
  const readFileAsStream = () => {
    throw new Error('not called: the owner holds the file in its asset store');
  };
  const render = () => {};
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  const run = new AsyncFunction('modules', 'console', 'readFileAsStream', 'render', guideScript());
  try {
    await run(modules, console, readFileAsStream, render);
    // Story 1: the phone and the tablet each received the image once, after its download.
    await vi.waitFor(() =>
      expect(logged.filter((line) => line[0] === 'received' && line[2] === 5_000)).toHaveLength(2),
    );
    // Story 2: the member saw the transfer end completed, with the whole file.
    await vi.waitFor(() =>
      expect(logged).toContainEqual([
        'completed',
        4_200,
        '/',
        4_200,
        expect.anything(),
        'B/s',
        0,
        'ms',
      ]),
    );
    // Story 3: "sign out everywhere" signed the desktop (the first device made) out.
    expect(clients[0]?.sessions.current).toMatchObject({
      active: false,
      revokedAt: expect.any(Number),
    });
  } finally {
    for (const client of clients) await client.stop();
  }
});
