#!/usr/bin/env node
// `npm run mutation [-- <group>...] [--full] [--concurrency N] [--dry-run] [--report]`
//
// Runs StrykerJS (stryker.config.mjs) over each group of critical files in turn, then prints the
// mutation score per file and overall and every surviving or uncovered mutant. Groups (see
// stryker.config.mjs): the engine's and the server's critical files a few at a time; none named
// means all of them. `--full` adds the
// simulation suites (much slower); `--dry-run` runs only Stryker's initial test run (to check a
// group's test selection and its time); `--report` prints the last results without running anything.
// Runs are incremental: a rerun only tests the mutants whose code or tests changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { GROUPS } from '../stryker.config.mjs';

const args = process.argv.slice(2);
const profile = args.includes('--full') ? 'full' : 'fast';
const reportOnly = args.includes('--report');
const dryRun = args.includes('--dry-run');
const concurrencyAt = args.indexOf('--concurrency');
const concurrency = concurrencyAt >= 0 ? args[concurrencyAt + 1] : undefined;
const named = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--concurrency');
for (const name of named) {
  if (!(name in GROUPS)) {
    console.error(`unknown group "${name}"; groups: ${Object.keys(GROUPS).join(', ')}`);
    process.exit(2);
  }
}
const groups = named.length > 0 ? named : Object.keys(GROUPS);

const reportFile = (group) => `reports/mutation/${group}-${profile}.json`;

if (!reportOnly) {
  for (const group of groups) {
    const started = Date.now();
    console.log(`\n=== mutation: ${group} (${profile} profile) ===`);
    const run = spawnSync(
      'npx',
      ['stryker', 'run', 'stryker.config.mjs', ...(dryRun ? ['--dryRunOnly'] : [])],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          SYNCLINE_MUTATION_GROUP: group,
          SYNCLINE_MUTATION_PROFILE: profile,
          ...(concurrency === undefined ? {} : { SYNCLINE_MUTATION_CONCURRENCY: concurrency }),
        },
      },
    );
    console.log(`=== ${group}: ${((Date.now() - started) / 60_000).toFixed(1)} min ===`);
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  if (dryRun) process.exit(0);
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const score = (c) => {
  const valid = c.detected + c.undetected;
  return valid === 0 ? 'n/a' : `${((100 * c.detected) / valid).toFixed(1)} %`;
};

const total = { detected: 0, undetected: 0, survived: 0, noCoverage: 0 };
const rows = [];
const undetected = [];
for (const group of groups) {
  const file = reportFile(group);
  if (!existsSync(file)) {
    console.log(`(no results for ${group} yet: ${file})`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const [path, { mutants, source }] of Object.entries(report.files)) {
    const lines = source.split('\n');
    const c = { detected: 0, undetected: 0, survived: 0, noCoverage: 0 };
    for (const m of mutants) {
      if (DETECTED.has(m.status)) c.detected++;
      if (UNDETECTED.has(m.status)) {
        c.undetected++;
        c[m.status === 'Survived' ? 'survived' : 'noCoverage']++;
        const { start, end } = m.location;
        const span = lines.slice(start.line - 1, end.line);
        span[span.length - 1] = (span[span.length - 1] ?? '').slice(0, end.column - 1);
        span[0] = (span[0] ?? '').slice(start.column - 1);
        const original = span.join('\n');
        const short = (text) => {
          const flat = text.replace(/\s+/g, ' ');
          return flat.length > 70 ? `${flat.slice(0, 67)}...` : flat;
        };
        undetected.push(
          `${path}:${start.line}:${start.column} ${m.status} ${m.mutatorName}: ` +
            `${short(original)}  ->  ${short(m.replacement ?? '')}`,
        );
      }
    }
    for (const k of Object.keys(total)) total[k] += c[k];
    rows.push({ path, ...c });
  }
}

if (undetected.length > 0) {
  console.log('\nSurviving and uncovered mutants:');
  for (const line of undetected) console.log(`  ${line}`);
}
console.log(`\nMutation score (${profile} profile): killed / (killed + survived + no coverage)`);
for (const r of rows) {
  console.log(
    `  ${score(r).padStart(7)}  ${r.path}  (${r.detected} killed, ${r.survived} survived, ${r.noCoverage} no coverage)`,
  );
}
console.log(
  `  ${score(total).padStart(7)}  overall  (${total.detected} killed, ${total.survived} survived, ${total.noCoverage} no coverage)`,
);
