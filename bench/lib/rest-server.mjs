// Helpers of the adapter benches (bench/server-*.mjs): start the reference server in a child
// process on PGlite or PostgreSQL, percentiles, RSS sampling, CLI output.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The stores to measure: PGlite always, PostgreSQL when SYNCLINE_PG_URL is set. */
export function storesToMeasure({ quiet = false } = {}) {
  const pgUrl = process.env.SYNCLINE_PG_URL || undefined;
  if (pgUrl === undefined && !quiet) {
    process.stderr.write(
      '\n*** PostgreSQL figures SKIPPED: SYNCLINE_PG_URL is not set (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres) ***\n',
    );
  }
  return [
    { key: 'pglite', label: 'PGlite' },
    ...(pgUrl === undefined ? [] : [{ key: 'pg', label: 'PostgreSQL', adminUrl: pgUrl }]),
  ];
}

/** Starts the server in a child process; resolves with { url, stop }. */
export function startServerProcess(store) {
  // `databaseUrl`: an existing database several processes share (the scale-out bench).
  const kind =
    store.databaseUrl !== undefined ? 'postgres-db' : store.key === 'pg' ? 'postgres' : 'pglite';
  const args = [join(here, 'rest-server-child.mjs'), kind];
  if (store.databaseUrl !== undefined) args.push(store.databaseUrl);
  else if (store.adminUrl) args.push(store.adminUrl);
  // SYNCLINE_BENCH_SERVER_ARGS passes node flags to the server, e.g. `--cpu-prof` to profile it.
  const nodeArgs = (process.env.SYNCLINE_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line === undefined) return;
      const { url, database } = JSON.parse(line.slice('READY '.length));
      child.removeAllListeners('exit');
      resolve({
        url,
        database,
        pid: child.pid,
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere.
 * Wall times on a shared machine swing with its load; CPU seconds say which process works.
 */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticksPerSecond = 100; // USER_HZ on Linux
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends connected to `database` (the server's
 * pool), or 0 when there is none; NaN when /proc or the admin connection is unavailable.
 */
export async function databaseCpuSeconds(adminUrl, database) {
  if (adminUrl === undefined || database === undefined) return 0;
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
      database,
    ]);
    // A backend that exited between the query and the read (an idle pool connection closing)
    // counts as 0.
    return rows.reduce((sum, row) => sum + (processCpuSeconds(row.pid) || 0), 0);
  } catch {
    return Number.NaN;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** The q-quantile (0..1) of numbers, nearest-rank. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Samples this process's RSS every `everyMs`; `stop()` returns the peak in bytes. */
export function sampleRss(everyMs = 5) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** `true` when `metaUrl` is the module node was started with (standalone use). */
export function isMain(metaUrl) {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === process.argv[1];
}

/** Prints a result object as aligned `label: value unit (target)` lines. */
export function printResult(meta, result) {
  for (const metric of meta.metrics) {
    const value = result[metric.key];
    const shown =
      typeof value === 'number' && Number.isFinite(value)
        ? value.toFixed(value >= 100 ? 0 : 2)
        : 'n/a';
    const target =
      metric.target === undefined
        ? ''
        : ` (target ${metric.better === 'higher' ? '>=' : '<='} ${metric.target})`;
    console.log(`${metric.label.padEnd(40)} ${shown.padStart(10)} ${metric.unit ?? ''}${target}`);
  }
}
