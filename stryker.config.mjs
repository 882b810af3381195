// StrykerJS over the engine's and the server's critical files: the tests of the tests.
// Run it with `npm run mutation` (scripts/mutation.mjs picks the group and the profile and
// prints the score and the surviving mutants); see docs/testing.md#mutation-testing.
// @stryker-mutator/core 10 needs Node 22; 9.6.1 runs on the Node 20 this repository supports.

/**
 * The files mutated, in small groups so that each run finishes (and saves its incremental
 * results) in minutes; `npm run mutation -- <group>` runs one group, no name runs them all.
 */
const core = (f) => `packages/sync-core/src/${f}`;
const server = (f) => `packages/server/src/store/${f}`;
export const GROUPS = {
  'pull-page': { target: 'sync-core', files: [core('replication/pull-page.ts')] },
  settlement: { target: 'sync-core', files: [core('client/settlement.ts')] },
  'push-results': { target: 'sync-core', files: [core('replication/push-results.ts')] },
  'push-loop': { target: 'sync-core', files: [core('replication/push-loop.ts')] },
  'pull-loop': { target: 'sync-core', files: [core('replication/pull-loop.ts')] },
  outbox: { target: 'sync-core', files: [core('outbox/outbox.ts'), core('outbox/coalesce.ts')] },
  store: {
    target: 'sync-core',
    files: [core('store/record-store.ts'), core('store/apply-mutation.ts')],
  },
  conflict: { target: 'sync-core', files: [core('conflict/resolvers.ts')] },
  'server-push': {
    target: 'server',
    files: [server('push-plan.ts'), server('push-transaction.ts'), server('push-optimistic.ts')],
  },
  'server-pull': { target: 'server', files: [server('pull-query.ts')] },
};

const groupName = process.env.SYNCLINE_MUTATION_GROUP ?? 'pull-page';
const group = GROUPS[groupName];
if (group === undefined) throw new Error(`unknown SYNCLINE_MUTATION_GROUP ${groupName}`);
const profile = process.env.SYNCLINE_MUTATION_PROFILE === 'full' ? 'full' : 'fast';
process.env.SYNCLINE_MUTATION_TARGET = group.target;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  mutate: group.files,
  coverageAnalysis: 'perTest',
  // A mutant of a module-level constant would need every test file reloaded; they are few and
  // the vitest runner reports a file that fails to load as "survived", so they are left out.
  ignoreStatic: true,
  concurrency: Number(process.env.SYNCLINE_MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  // The server groups' initial run (every server suite on PGlite) took over Stryker's default
  // 5 minutes on a loaded 2-core machine.
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: `reports/mutation/${groupName}-${profile}.incremental.json`,
  reporters: ['json', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${groupName}-${profile}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // What the sandbox copy leaves out (node_modules is linked, not copied).
  ignorePatterns: [
    'docs/api',
    '**/dist',
    '**/.turbo',
    '**/node_modules',
    '**/coverage',
    'test-results',
    'artifacts',
    '.data',
    '.syncline-data',
    'reports',
  ],
  logLevel: 'info',
  fileLogLevel: 'off',
};
