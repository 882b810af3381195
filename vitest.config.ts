import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const core = (p: string) =>
  fileURLToPath(new URL(`./packages/sync-core/src/${p}`, import.meta.url));

// Tests import sibling packages from source, so a change in sync-core is seen by the
// server and adapter tests without a rebuild. `npm test` still builds first, because the
// package checks and typedoc read dist/.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@syncline\/sync-core\/protocol$/, replacement: core('protocol/index.ts') },
      { find: /^@syncline\/sync-core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@syncline\/sync-core\/node$/, replacement: core('node.ts') },
      { find: /^@syncline\/sync-core\/targeting$/, replacement: core('targeting.ts') },
      { find: /^@syncline\/sync-core$/, replacement: core('index.ts') },
      {
        find: /^@syncline\/adapter-rest$/,
        replacement: fileURLToPath(
          new URL('./packages/adapter-rest/src/index.ts', import.meta.url),
        ),
      },
      {
        find: /^@syncline\/adapter-rest\/targeting$/,
        replacement: fileURLToPath(
          new URL('./packages/adapter-rest/src/targeting.ts', import.meta.url),
        ),
      },
    ],
  },
  test: {
    include: [
      'packages/*/{src,test}/**/*.test.{ts,tsx}',
      'examples/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
