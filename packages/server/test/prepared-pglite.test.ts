import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { preparedFile, preparedPglite, preparedPgliteStore } from './prepared-pglite.js';
import { authOf, put, request } from './support.js';

describe('the prepared PGlite database of the tests', { timeout: 120_000 }, () => {
  it('has every migration applied, and each start is a database of its own', async () => {
    const first = await preparedPglite();
    const second = await preparedPglite();
    try {
      const applied = await first.query<{ id: number }>(
        'SELECT id FROM syncline.migrations ORDER BY id',
      );
      expect(applied.rows.map((row) => Number(row.id))).toEqual(MIGRATIONS.map((m) => m.id));
      await first.exec('CREATE TABLE only_here (n int)');
      const seen = await second.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'only_here'",
      );
      expect(seen.rows).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('opens a working store', async () => {
    const store = await preparedPgliteStore();
    try {
      const pushed = await store.push(authOf('a'), request([put('user:a', 'r', { n: 1 })]));
      expect(pushed.results[0]).toMatchObject({ status: 'applied', revision: 1 });
      const page = await store.pull(authOf('a'), { scope: 'user:a', checkpoint: null });
      expect(page.changes.map((r) => r.data)).toEqual([{ n: 1 }]);
    } finally {
      await store.close();
    }
  });

  it('is named by the migrations, so a changed migration never loads a stale database', () => {
    expect(preparedFile(MIGRATIONS)).toBe(preparedFile());
    const last = MIGRATIONS.at(-1);
    if (last === undefined) throw new Error('no migrations');
    const edited = [...MIGRATIONS.slice(0, -1), { ...last, sql: `${last.sql}\n-- edited` }];
    const added = [...MIGRATIONS, { id: last.id + 1, name: 'next', sql: 'SELECT 1;' }];
    expect(preparedFile(edited)).not.toBe(preparedFile());
    expect(preparedFile(added)).not.toBe(preparedFile());
    expect(preparedFile(added)).not.toBe(preparedFile(edited));
  });
});
