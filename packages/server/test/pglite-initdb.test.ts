import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncError } from '@syncline/sync-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataDirApart } from '../src/store/pglite-initdb.js';
import { pgliteStore } from '../src/store/pglite-store.js';
import { authOf, put, request } from './support.js';

describe('a new PGlite data directory is created by a child process', { timeout: 120_000 }, () => {
  const base = mkdtempSync(join(tmpdir(), 'syncline-initdb-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('creates the database, then the store opens it and keeps what it is given', async () => {
    const dataDir = join(base, 'fresh');
    await createDataDirApart(dataDir);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    const store = await pgliteStore({ dataDir });
    const pushed = await store.push(authOf('a'), request([put('user:a', 'r', { n: 1 })]));
    expect(pushed.results[0]).toMatchObject({ status: 'applied', revision: 1 });
    await store.close();
    const reopened = await pgliteStore({ dataDir });
    const page = await reopened.pull(authOf('a'), { scope: 'user:a', checkpoint: null });
    expect(page.changes.map((r) => r.data)).toEqual([{ n: 1 }]);
    await reopened.close();
  });

  it('says why when the directory cannot be created', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'not a directory');
    const error = await createDataDirApart(join(file, 'db')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ kind: 'storage', code: 'create_failed' });
    expect((error as Error).message).toContain(join(file, 'db'));
  });
});
