// Benchmark runner: `npm run bench` (builds first) or `node bench/run.mjs [bench...] [options]`.
//
// Every `bench/*.mjs` file other than this one is a benchmark (see bench/README.md for the
// contract). Each measurement runs in a FRESH node process (no JIT warm-up, caches or heap
// left over from the previous run); the table shows the median over the runs.
//
//   node bench/run.mjs                 every benchmark
//   node bench/run.mjs core            only bench/core.mjs (a name or a path)
//   --runs N                           runs per benchmark (default: the bench's own, else 5)
//   --json FILE                        also write every run's figures as JSON
//   --strict                           exit 1 if a median misses its target
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RESULT_MARKER } from './lib/protocol.mjs';
import { formatNumber, median, meetsTarget, renderTable } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'lib', 'child.mjs');
const DEFAULT_RUNS = 5;
const CHILD_TIMEOUT_MS = 10 * 60_000;

function parseArgs(argv) {
  const options = { names: [], runs: undefined, json: undefined, strict: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--json') options.json = argv[++i];
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else options.names.push(arg);
  }
  if (options.runs !== undefined && !(Number.isInteger(options.runs) && options.runs > 0)) {
    throw new Error('--runs needs a positive integer');
  }
  return options;
}

function allBenchFiles() {
  return readdirSync(here)
    .filter((name) => name.endsWith('.mjs') && name !== 'run.mjs')
    .sort()
    .map((name) => join(here, name));
}

function resolveBench(name) {
  if (name.endsWith('.mjs')) return isAbsolute(name) ? name : resolve(name);
  return join(here, `${name}.mjs`);
}

/** Runs one measurement in a fresh process; resolves with the bench's result object. */
function runChild(file, nodeArgs) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CHILD, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || line === undefined) {
        const tail = stdout.trim().split('\n').slice(-20).join('\n');
        reject(new Error(`${basename(file)} failed (exit ${code ?? signal})\n${tail}`));
        return;
      }
      resolvePromise(JSON.parse(line.slice(RESULT_MARKER.length)));
    });
  });
}

async function runBench(file, options) {
  const bench = await import(pathToFileURL(file).href);
  if (typeof bench.run !== 'function' || typeof bench.meta !== 'object') {
    throw new Error(`${file} must export \`meta\` and \`run\` (see bench/README.md)`);
  }
  const { meta } = bench;
  const runs = options.runs ?? meta.runs ?? DEFAULT_RUNS;
  const results = [];
  process.stderr.write(`${meta.title ?? basename(file)}: ${runs} runs `);
  for (let i = 0; i < runs; i += 1) {
    results.push(await runChild(file, meta.nodeArgs ?? []));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return { file: basename(file), meta, results };
}

function report(benchRuns) {
  const header = ['Benchmark', 'Metric', 'Target', 'Median', 'Min .. Max', 'Result'];
  const rows = [];
  let missed = 0;
  for (const { meta, results } of benchRuns) {
    for (const metric of meta.metrics) {
      const values = results.map((r) => r[metric.key]).filter((v) => typeof v === 'number');
      const value = values.length > 0 ? median(values) : Number.NaN;
      const ok = meetsTarget(metric, value);
      if (ok === false) missed += 1;
      const unit = metric.unit ? ` ${metric.unit}` : '';
      const target =
        metric.target === undefined
          ? '-'
          : `${metric.better === 'higher' ? '>=' : '<='} ${formatNumber(metric.target)}${unit}`;
      rows.push([
        meta.title,
        metric.label,
        target,
        `${formatNumber(value)}${unit}`,
        values.length > 0
          ? `${formatNumber(Math.min(...values))} .. ${formatNumber(Math.max(...values))}`
          : 'n/a',
        ok === null ? 'info' : ok ? 'ok' : 'MISSED',
      ]);
    }
  }
  console.log(renderTable(header, rows));
  console.log(
    `\nMedian of ${[...new Set(benchRuns.map((b) => b.results.length))].join('/')} runs, each in a fresh node ${process.version} process.`,
  );
  console.log(loadNote(loadAtStart, loadavg()[0]));
  const steal = stealNote(stealAtStart, cpuTimes());
  if (steal !== undefined) console.log(steal);
  return missed;
}

/** Linux only: the `cpu` line of /proc/stat as { steal, total } in clock ticks, else undefined. */
function cpuTimes() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: ticks[7] ?? 0, total: ticks.reduce((sum, t) => sum + t, 0) };
  } catch {
    return undefined;
  }
}

/**
 * On a virtual machine the hypervisor may run other guests on this one's CPUs ("steal"): the
 * benchmark's threads then wait without the guest seeing a busy machine, and every timing is
 * inflated. Reports the share of CPU time stolen while the benchmarks ran.
 */
function stealNote(before, after) {
  if (before === undefined || after === undefined || after.total <= before.total) return undefined;
  const share = (after.steal - before.steal) / (after.total - before.total);
  const text = `CPU steal (time the hypervisor gave this VM's CPUs to other guests): ${(share * 100).toFixed(1)}% during the runs.`;
  return share > 0.05 ? `${text} WARNING: the timings are inflated.` : text;
}

/** Figures from a busy machine are inflated; say so next to them. */
function loadNote(before, after) {
  const cores = availableParallelism();
  const load = Math.max(before, after);
  const text = `Load average (1 min) ${before.toFixed(1)} at start, ${after.toFixed(1)} at end, on ${cores} cores.`;
  return load > cores * 0.75
    ? `${text} WARNING: the machine was busy; timings are inflated (see the CPU reference rows).`
    : text;
}

const loadAtStart = loadavg()[0];
const stealAtStart = cpuTimes();
const options = parseArgs(process.argv.slice(2));
if (options.help) {
  console.log(readFileHeader());
  process.exit(0);
}
const files = options.names.length > 0 ? options.names.map(resolveBench) : allBenchFiles();
const benchRuns = [];
for (const file of files) benchRuns.push(await runBench(file, options));
const missed = report(benchRuns);
if (options.json) {
  writeFileSync(options.json, `${JSON.stringify(benchRuns, null, 2)}\n`);
}
if (options.strict && missed > 0) process.exit(1);

function readFileHeader() {
  return 'usage: node bench/run.mjs [bench name or file ...] [--runs N] [--json FILE] [--strict]';
}
