// StrykerJS over the engine's and the server's critical files: the tests of the tests.
// Run it with `npm run mutation` (scripts/mutation.mjs picks the group and the profile and
// prints the score and the surviving mutants); see docs/testing.md#mutation-testing.
// @stryker-mutator/core 10 needs Node 22; 9.6.1 runs on the Node 20 this repository supports.

/**
 * The files mutated, in small groups so that each run finishes (and saves its incremental
 * results) in minutes; `npm run mutation -- <group>` runs one group, no name runs them all.
 *
 * `tests` is each group's honest test selection: the unit tests next to the code plus the
 * behaviour suites that drive it through a real client or store. It replaces vitest's `related`
 * (every engine file imports the outbox, so `related` ran nearly every suite, the slow ones
 * included, and a group took hours). Left out on purpose: the simulation tiers (the `--full`
 * profile adds them), the real-PostgreSQL and Chromium suites, and suites of other features
 * (deliveries, assets) that pass through these files without asserting on them.
 */
const core = (f) => `packages/sync-core/src/${f}`;
const server = (f) => `packages/server/src/store/${f}`;
/** The engine's behaviour suites: a real client against the in-memory server. */
const clientSuites = [
  core('client/sync-client.test.ts'),
  core('client/reliability.test.ts'),
  core('client/conflicts.test.ts'),
  core('client/connectivity.test.ts'),
  core('review/settlement.test.ts'),
  core('client/many-devices.test.ts'),
  'packages/sync-core/test/storage/memory-contract.test.ts',
];
const pushSuites = [
  core('replication/push-results.test.ts'),
  core('replication/reset-own-push.test.ts'),
];
const pullSuites = [
  core('replication/pull-page.test.ts'),
  core('replication/poke-pages.test.ts'),
  core('replication/check-pull-page.test.ts'),
];
/**
 * The server's store semantics on PGlite (one database per file, reused by its tests). Each
 * covering file starts its PGlite again for every mutant, so the selection is the one suite
 * that states the store's contract; the differential and wire-text suites (PGlite too) are left
 * out for time.
 */
const storeSuites = ['packages/server/test/store.pglite.test.ts'];
export const GROUPS = {
  'pull-page': {
    target: 'sync-core',
    files: [core('replication/pull-page.ts')],
    tests: [...pullSuites, ...clientSuites],
  },
  settlement: {
    target: 'sync-core',
    files: [core('review/settlement.ts')],
    tests: clientSuites,
  },
  'push-results': {
    target: 'sync-core',
    files: [core('replication/push-results.ts')],
    tests: [...pushSuites, ...clientSuites],
  },
  'push-loop': {
    target: 'sync-core',
    files: [core('replication/push-loop.ts')],
    tests: [
      ...pushSuites,
      core('replication/push-loop.test.ts'),
      core('replication/retryer.test.ts'),
      core('replication/backoff.test.ts'),
      ...clientSuites,
    ],
  },
  'pull-loop': {
    target: 'sync-core',
    files: [core('replication/pull-loop.ts')],
    tests: [core('replication/pull-loop.test.ts'), ...pullSuites, ...clientSuites],
  },
  outbox: {
    target: 'sync-core',
    files: [core('outbox/outbox.ts'), core('outbox/coalesce.ts')],
    tests: [
      core('outbox/outbox.test.ts'),
      core('outbox/record-index.test.ts'),
      // A follower tab's mirrored outbox, and writes queued during a sign-in's load.
      core('tabs/tabs.test.ts'),
      core('client/sessions.test.ts'),
      ...clientSuites,
    ],
  },
  store: {
    target: 'sync-core',
    files: [core('store/record-store.ts'), core('store/apply-mutation.ts')],
    tests: [
      core('store/record-store.test.ts'),
      core('store/record-store.model.test.ts'),
      core('store/query.test.ts'),
      ...clientSuites,
    ],
  },
  conflict: {
    target: 'sync-core',
    files: [core('conflict/resolvers.ts')],
    tests: [
      core('conflict/resolvers.test.ts'),
      core('conflict/field-merge.test.ts'),
      core('replication/push-results.test.ts'),
      ...clientSuites,
    ],
  },
  // The server's push in two groups, so that each run ends (and saves its results) sooner: the
  // pure plan, and the database side of the optimistic and the locking way.
  'server-push-plan': {
    target: 'server',
    files: [server('push-plan.ts')],
    tests: ['packages/server/test/push-plan.test.ts', ...storeSuites],
  },
  'server-push': {
    target: 'server',
    files: [server('push-transaction.ts'), server('push-optimistic.ts')],
    tests: [
      'packages/server/test/push-plan.test.ts',
      'packages/server/test/push-optimistic.test.ts',
      'packages/server/test/push-runner.test.ts',
      ...storeSuites,
    ],
  },
  'server-pull': {
    target: 'server',
    files: [server('pull-query.ts')],
    tests: storeSuites,
  },
};

const groupName = process.env.SYNCLINE_MUTATION_GROUP ?? 'pull-page';
const group = GROUPS[groupName];
if (group === undefined) throw new Error(`unknown SYNCLINE_MUTATION_GROUP ${groupName}`);
const profile = process.env.SYNCLINE_MUTATION_PROFILE === 'full' ? 'full' : 'fast';
process.env.SYNCLINE_MUTATION_TARGET = group.target;
// Read by vitest.stryker.config.ts in Stryker's test-runner processes, which inherit this env.
process.env.SYNCLINE_MUTATION_TESTS = group.tests.join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  mutate: group.files,
  coverageAnalysis: 'perTest',
  // A mutant of a module-level constant would need every test file reloaded; they are few and
  // the vitest runner reports a file that fails to load as "survived", so they are left out.
  ignoreStatic: true,
  concurrency: Number(process.env.SYNCLINE_MUTATION_CONCURRENCY ?? 2),
  // A server mutant's run starts its PGlite again (beforeAll, not counted in a test's own time):
  // with 10 s most of them "timed out", which Stryker counts as killed, so the score was false.
  timeoutMS: group.target === 'server' ? 90_000 : 10_000,
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
