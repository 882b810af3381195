import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const react18 = (pkg: string) =>
  fileURLToPath(new URL(`./test/react18/node_modules/${pkg}`, import.meta.url));

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
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two projects: every suite (with the root's React 19), then packages/react's tests again
    // with React 18 (its peer range is ^18 || ^19). React 18 is the private workspace
    // test/react18, which npm installs under test/react18/node_modules beside the root's 19.
    // Projects extend this config, and arrays are merged, so `include` stays per project.
    projects: [
      {
        extends: true,
        test: {
          name: 'all',
          include: [
            'packages/*/{src,test}/**/*.test.{ts,tsx}',
            'examples/*/test/**/*.test.ts',
            'test/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        resolve: {
          alias: [
            { find: /^react(\/.*)?$/, replacement: `${react18('react')}$1` },
            { find: /^react-dom(\/.*)?$/, replacement: `${react18('react-dom')}$1` },
            // Its ES module build, run through vite (below), so its own `react` and
            // `react-dom` imports take the two aliases above; its CommonJS `main` would load
            // the root's React 19 with Node's require.
            {
              find: /^@testing-library\/react$/,
              replacement: fileURLToPath(
                new URL(
                  './node_modules/@testing-library/react/dist/@testing-library/react.esm.js',
                  import.meta.url,
                ),
              ),
            },
          ],
        },
        test: {
          name: 'React 18',
          include: ['packages/react/test/**/*.test.{ts,tsx}'],
          server: { deps: { inline: ['@testing-library/react'] } },
        },
      },
    ],
  },
});
