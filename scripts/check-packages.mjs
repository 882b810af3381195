#!/usr/bin/env node
// @ts-check
/**
 * Packaging checks for every publishable workspace package (packages/* with a package.json
 * that has a `name` and is not `private`): publint (strict: warnings fail) and
 * Are The Types Wrong (`attw --pack`, profile `strict`: node10, node16 from CJS and from
 * ESM, and bundler resolution must all find the right types). Run after `npm run build`.
 *
 * A package may narrow the attw check with its own `.attw.json` (attw reads it from the
 * working directory, which is the package's directory); say why in docs/decisions.md.
 *
 * Exit code: 0 when every package passes, 1 otherwise. Prints one summary line a package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const attwBin = join(root, 'node_modules', '.bin', 'attw');

/** @typedef {{ dir: string, name: string, pkg: Record<string, unknown> }} Workspace */

/** @returns {Workspace[]} */
function publishablePackages() {
  const packagesDir = join(root, 'packages');
  const found = [];
  for (const entry of readdirSync(packagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(packagesDir, entry.name);
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue; // being written; nothing to publish yet
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (typeof pkg.name !== 'string' || pkg.private === true) continue;
    found.push({ dir, name: pkg.name, pkg });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * @param {Workspace} ws
 * @returns {Promise<string[]>} the problems found (empty when clean)
 */
async function runPublint(ws) {
  const { messages } = await publint({ pkgDir: ws.dir, level: 'suggestion', strict: true });
  const problems = [];
  for (const message of messages) {
    const text = formatMessage(message, ws.pkg, { color: false }) ?? message.code;
    if (message.type === 'suggestion') {
      console.log(`  publint suggestion: ${text}`);
    } else {
      problems.push(`publint ${message.type}: ${text}`);
    }
  }
  return problems;
}

/**
 * @param {Workspace} ws
 * @returns {string[]} the problems found (empty when clean)
 */
function runAttw(ws) {
  const result = spawnSync(
    attwBin,
    ['--pack', '.', '--profile', 'strict', '--format', 'table-flipped', '--no-color', '--no-emoji'],
    { cwd: ws.dir, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } },
  );
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  if (result.error) return [`attw could not run: ${result.error.message}`];
  if (result.status === 0) return [];
  return [`attw found problems:\n${indent(output)}`];
}

/** @param {string} text */
function indent(text) {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

async function main() {
  const workspaces = publishablePackages();
  if (workspaces.length === 0) {
    console.log('check:packages: no publishable package found under packages/.');
    return 0;
  }
  /** @type {Array<{ name: string, problems: string[] }>} */
  const results = [];
  for (const ws of workspaces) {
    console.log(`\n== ${ws.name} (${relative(root, ws.dir)})`);
    /** @type {string[]} */
    let problems = [];
    const entry = typeof ws.pkg.main === 'string' ? join(ws.dir, ws.pkg.main) : undefined;
    if (entry && !existsSync(entry)) {
      problems = [`${ws.pkg.main} does not exist: run \`npm run build\` first`];
    } else {
      problems = [...(await runPublint(ws)), ...runAttw(ws)];
    }
    for (const problem of problems) console.log(`  ${problem}`);
    console.log(problems.length === 0 ? '  ok: publint and attw are clean' : '  FAILED');
    results.push({ name: ws.name, problems });
  }
  const failed = results.filter((r) => r.problems.length > 0);
  console.log('\ncheck:packages summary');
  for (const r of results) {
    console.log(`  ${r.problems.length === 0 ? 'pass' : 'FAIL'}  ${r.name}`);
  }
  console.log(
    failed.length === 0
      ? `All ${results.length} publishable packages pass publint and attw.`
      : `${failed.length} of ${results.length} packages have packaging problems.`,
  );
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
