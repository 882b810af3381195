/**
 * Which real parts this machine has for tests (PostgreSQL, Chromium), and the loud skip
 * when one is missing. CI sets SYNCLINE_REQUIRE_ALL=1, which turns a skip into a failure,
 * so a suite can never go quietly missing there.
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

const REQUIRE_ALL = process.env.SYNCLINE_REQUIRE_ALL === '1';

/** Connection string of a real PostgreSQL server, from SYNCLINE_PG_URL, or undefined. */
export function postgresUrl(): string | undefined {
  return process.env.SYNCLINE_PG_URL || undefined;
}

/** Path of a Chromium binary (SYNCLINE_CHROMIUM or /usr/bin/chromium), or undefined. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.SYNCLINE_CHROMIUM, '/usr/bin/chromium'].filter(Boolean);
  return candidates.find((p) => existsSync(p as string));
}

/**
 * `describe` when `available`, otherwise a skipped suite that says loudly what is missing
 * and how to get it; under SYNCLINE_REQUIRE_ALL=1 a missing part fails the run instead.
 */
export function describeWhen(
  available: unknown,
  what: string,
  howToGet: string,
): typeof describe | typeof describe.skip {
  if (available) return describe;
  const message = `SKIPPED: ${what} is not available on this machine (${howToGet}).`;
  if (REQUIRE_ALL) throw new Error(`${message} SYNCLINE_REQUIRE_ALL=1 forbids skipping.`);
  console.warn(`\n*** ${message} ***\n`);
  return describe.skip;
}

/**
 * {@link describeWhen} for the suites that need a real PostgreSQL server (SYNCLINE_PG_URL, a
 * superuser URL; each suite creates and drops its own databases).
 */
export function describePostgres(): typeof describe | typeof describe.skip {
  return describeWhen(
    postgresUrl(),
    'PostgreSQL (SYNCLINE_PG_URL)',
    'apt-get install postgresql, start it, export SYNCLINE_PG_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres',
  );
}
