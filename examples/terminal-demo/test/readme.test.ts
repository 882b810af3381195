/**
 * Keeps the README honest: runs its "Quick start" code block, as written, against a freshly
 * started reference server, and checks what it printed. Needs the packages built
 * (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverCliPath, startServer } from '../lib/server-process.mjs';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

/** The first ```ts block after the "## Quick start" heading. */
function quickStartCode(): string {
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ```ts block under "## Quick start"');
  return match[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function runNode(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd: demoDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('README quick start', () => {
  let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'syncline-readme-'));

  beforeAll(async () => {
    const cli = serverCliPath();
    if (!cli) throw new Error('the server is not built: run `npm run build` first');
    server = await startServer({ cli, port: await freePort(), dataDir, log: () => {} });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs as written against a real server and prints the stored todo', async () => {
    const code = quickStartCode();
    expect(code).toContain("const baseUrl = 'http://127.0.0.1:8787'");
    // It ends cleanly by itself: no process.exit, the stopped client leaves nothing running.
    expect(code.trimEnd().endsWith('await client.stop();')).toBe(true);
    // The same code, pointed at this test's server.
    const script = `${code.replace("'http://127.0.0.1:8787'", `'${server?.baseUrl}'`)}
console.log('final status:', client.status.state, client.status.pending);
`;
    // Inside the demo's folder so that the @syncline/* imports resolve like in an app.
    const file = join(demoDir, `.readme-quickstart-${process.pid}.mjs`);
    writeFileSync(file, script);
    try {
      const { code: exitCode, output } = await runNode(file);
      expect(output).toContain("{ title: 'Buy milk', done: false }");
      expect(output).toMatch(/todos changed: \[ 't1' \]/);
      expect(output).toMatch(/id: 't1'/);
      expect(output).toContain('sync: settled');
      expect(output).toContain('final status: synced 0');
      expect(exitCode, output).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  }, 90_000);
});
