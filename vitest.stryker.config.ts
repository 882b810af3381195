import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The vitest config Stryker runs (see stryker.config.mjs and `npm run mutation`): the package
// under mutation only, never the Chromium suites. The fast profile (default) also leaves out the
// simulation suites, which cover almost every line and would run for each mutant; the real
// PostgreSQL suites are left out in both (PGlite runs the same semantics without a server).
const target = process.env.SYNCLINE_MUTATION_TARGET === 'server' ? 'server' : 'sync-core';
const full = process.env.SYNCLINE_MUTATION_PROFILE === 'full';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [`packages/${target}/{src,test}/**/*.test.ts`],
    exclude: [
      '**/node_modules/**',
      '**/*.browser.test.ts',
      '**/*.postgres.test.ts',
      ...(full ? [] : ['packages/*/test/sim/**']),
    ],
  },
});
