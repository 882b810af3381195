/** docs/custom-adapter.md shows this example's files exactly, so the guide runs as written. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

it('the guide holds the example files verbatim, in order', () => {
  const guide = read('../../../docs/custom-adapter.md');
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks.slice(0, 3)).toEqual([
    read('../src/document-db.ts'),
    read('../src/document-transport.ts'),
    read('./conformance.test.ts'),
  ]);
});
