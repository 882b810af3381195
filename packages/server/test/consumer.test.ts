/**
 * The built package as an app meets it, outside the workspace: a consumer project whose
 * `node_modules` holds a copy of `@syncline/server` (its `dist` and `package.json`) and its
 * dependencies, but neither `pg` nor `@types/pg`. Its TypeScript must compile with default
 * settings (no `skipLibCheck`), and `postgresStore` must say which package to install.
 * Needs `npm run build` first (`npm test` builds before it runs the tests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = resolve(here, '..');
const root = resolve(serverDir, '../..');

const APP_TS = `
import { createSyncHandler, devAuth, pgliteStore, postgresStore, type SyncStore } from '@syncline/server';
import { startServer, type StartedServer } from '@syncline/server/node';

export async function open(url?: string): Promise<SyncStore> {
  return url === undefined ? pgliteStore({ mutationRetentionMs: 86_400_000 }) : postgresStore({ connectionString: url });
}
export async function serveIt(store: SyncStore): Promise<StartedServer> {
  const auth = devAuth();
  createSyncHandler({ store, authenticate: auth.authenticate });
  return startServer({ store, port: 0, devAuth: auth });
}
`;

const MISSING_PG = (load: string) => `
${load}
postgresStore({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }).then(
  () => { console.log('opened'); process.exit(1); },
  (error) => { console.log(JSON.stringify({ name: error.name, kind: error.kind, code: error.code, message: error.message })); },
);
`;

describe('@syncline/server in an app of its own', () => {
  let app: string;
  beforeAll(() => {
    if (!existsSync(join(serverDir, 'dist', 'index.d.ts'))) {
      throw new Error('packages/server/dist is missing: run `npm run build` first');
    }
    app = mkdtempSync(join(tmpdir(), 'syncline-consumer-'));
    const modules = join(app, 'node_modules');
    // A copy, not a link: Node and TypeScript resolve a linked package's imports from its real
    // place, inside the workspace, where pg is installed.
    const copy = join(modules, '@syncline', 'server');
    mkdirSync(copy, { recursive: true });
    cpSync(join(serverDir, 'package.json'), join(copy, 'package.json'));
    cpSync(join(serverDir, 'dist'), join(copy, 'dist'), { recursive: true });
    const link = (name: string, target: string) => {
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(target, join(modules, name), 'dir');
    };
    link('@syncline/sync-core', join(root, 'packages', 'sync-core'));
    for (const name of ['@electric-sql/pglite', 'jose', '@types/node', 'undici-types']) {
      link(name, join(root, 'node_modules', name));
    }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    writeFileSync(join(app, 'app.ts'), APP_TS);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true },
        files: ['app.ts'],
      }),
    );
  });
  afterAll(() => {
    if (app !== undefined) rmSync(app, { recursive: true, force: true });
  });

  it('type-checks with default settings (no skipLibCheck), without @types/pg', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 300_000); // a whole tsc run over Node's declarations: seconds, more on a busy machine

  for (const [format, load] of [
    ['ESM', "import { postgresStore } from '@syncline/server';"],
    ['CommonJS', "const { postgresStore } = require('@syncline/server');"],
  ] as const) {
    it(`names the package to install when postgresStore runs without pg (${format})`, () => {
      const file = join(app, format === 'ESM' ? 'missing-pg.mjs' : 'missing-pg.cjs');
      writeFileSync(file, MISSING_PG(load));
      const out = execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
      const error = JSON.parse(out.trim()) as Record<string, string>;
      expect(error).toMatchObject({
        name: 'SyncError',
        kind: 'invalid',
        code: 'missing_dependency',
      });
      expect(error.message).toContain('npm install pg');
    });
  }
});
