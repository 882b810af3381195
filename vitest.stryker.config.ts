import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The vitest config Stryker runs (see stryker.config.mjs and `npm run mutation`): the test files
// of the group under mutation only (SYNCLINE_MUTATION_TESTS, set from the group's `tests`), never
// the Chromium or real-PostgreSQL suites. The full profile adds the package's simulation suites,
// which cover almost every line and would run for each mutant.
const target = process.env.SYNCLINE_MUTATION_TARGET === 'server' ? 'server' : 'sync-core';
const full = process.env.SYNCLINE_MUTATION_PROFILE === 'full';
const tests = (process.env.SYNCLINE_MUTATION_TESTS ?? '').split(',').filter((t) => t !== '');
if (tests.length === 0) throw new Error('SYNCLINE_MUTATION_TESTS is empty: run `npm run mutation`');

// Without the base's projects (vitest.config.ts): one run of the files below, not two.
const { projects: _projects, ...baseTest } = base.test ?? {};

export default defineConfig({
  ...base,
  test: {
    ...baseTest,
    include: [...tests, ...(full ? [`packages/${target}/test/sim/**/*.test.ts`] : [])],
    exclude: ['**/node_modules/**', '**/*.browser.test.ts', '**/*.postgres.test.ts'],
  },
});
