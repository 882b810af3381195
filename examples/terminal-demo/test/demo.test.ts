/**
 * Runs the terminal demo the way `npm start -- --once` does and checks what it printed: the
 * reference server started, both devices signed in, the offline edits conflicted and merged,
 * and both devices ended with the same todos. Needs the packages built (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const serverCli = fileURLToPath(new URL('../../../packages/server/dist/cli.js', import.meta.url));
const coreDist = fileURLToPath(
  new URL('../../../packages/sync-core/dist/index.js', import.meta.url),
);

interface DemoRun {
  code: number | null;
  output: string;
}

function runDemo(args: string[]): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['demo.mjs', ...args], {
      cwd: demoDir,
      env: { ...process.env, NO_COLOR: '1', SYNCLINE_DEMO_ONCE: '' },
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

/** A port nobody listens on right now. */
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

function expectTheStory(output: string): void {
  expect(output).toContain('1. The phone adds two todos; the laptop receives them');
  expect(output).toMatch(/laptop +sees: \[ \] Buy milk \(milk\) · \[ \] Call mum \(mum\)/);
  expect(output).toMatch(/laptop +network off/);
  expect(output).toMatch(/laptop +status: offline, 1 pending/);
  // fieldMerge kept the laptop's rename and the phone's tick.
  expect(output).toMatch(/laptop +sees: \[x\] Buy oat milk \(milk\) · \[ \] Call mum \(mum\)/);
  expect(output).toMatch(/phone +sees: \[x\] Buy oat milk \(milk\) · \[ \] Call mum \(mum\)/);
  expect(output).toMatch(/demo +both devices agree: \[x\] Buy oat milk \(milk\)\n/);
  expect(output).not.toMatch(/^error /m);
}

describe('terminal demo', () => {
  it('is built before it runs', () => {
    expect(existsSync(coreDist), 'run `npm run build` first').toBe(true);
    expect(existsSync(serverCli), 'run `npm run build` first').toBe(true);
  });

  it('runs two devices over HTTP against the reference server and exits with --once', async () => {
    const port = await freePort();
    const { code, output } = await runDemo(['--once', '--port', String(port)]);
    expect(output).toContain(`answering at http://127.0.0.1:${port}`);
    expect(output).toMatch(/phone +signed in as alice \(session /);
    expect(output).toMatch(/laptop +signed in as alice \(session /);
    expectTheStory(output);
    expect(output).toMatch(/demo +done \(--once\): server stopped/);
    expect(code, output).toBe(0);
  }, 120_000);

  it('runs the same story on the in-memory server with --memory', async () => {
    const { code, output } = await runDemo(['--memory']);
    expect(output).toContain('in-memory protocol server');
    expectTheStory(output);
    expect(code, output).toBe(0);
  }, 60_000);
});
