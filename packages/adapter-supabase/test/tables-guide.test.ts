/**
 * docs/existing-backends.md shows the tables-mode app exactly as the tests apply it, so its
 * SQL runs as written.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it("the guide's Supabase tables SQL is the test app's migration, verbatim", () => {
  const guide = read('../../../docs/existing-backends.md');
  const blocks = [...guide.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks).toContain(read('./support/tables-app.sql'));
});
