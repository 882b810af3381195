// @ts-check
/**
 * Starts the reference server's CLI (`syncline-server`) as a child process, exactly as a user
 * would, and waits until `GET /healthz` answers.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Path of the built `syncline-server` bin, or `undefined` when the server is not built. */
export function serverCliPath() {
  let manifestPath;
  try {
    manifestPath = require.resolve('@syncline/server/package.json');
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['syncline-server'];
  if (typeof bin !== 'string') return undefined;
  const path = join(dirname(manifestPath), bin);
  return existsSync(path) ? path : undefined;
}

/**
 * @typedef {object} ServerProcess
 * @property {string} baseUrl
 * @property {() => Promise<void>} stop SIGTERM, then SIGKILL after 5 s
 * @property {Promise<number | null>} exited resolves with the exit code when the process ends
 */

/**
 * @param {{ cli: string, port: number, dataDir: string, log: (line: string) => void }} options
 * @returns {Promise<ServerProcess>}
 */
export async function startServer({ cli, port, dataDir, log }) {
  // Another process on the port would answer /healthz in our server's place.
  await assertPortFree(port);
  const args = [cli, '--port', String(port), '--dev-auth', '--data', dataDir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {string[]} */
  const output = [];
  const collect = (/** @type {Buffer} */ chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      log(line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (true) {
    if (hasExited) {
      throw new Error(`syncline-server exited before it answered:\n${output.join('\n')}`);
    }
    if (await healthy(baseUrl)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`syncline-server did not answer ${baseUrl}/healthz within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const stop = async () => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { baseUrl, stop, exited };
}

/** @param {string} baseUrl */
async function healthy(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Rejects when something already listens on `127.0.0.1:port`.
 * @param {number} port
 */
function assertPortFree(port) {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => {
      const busy = /** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE';
      reject(
        busy
          ? new Error(`port ${port} is already in use; stop what runs there or pass --port N`)
          : error,
      );
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}
