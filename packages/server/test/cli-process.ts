/**
 * Runs `syncline-server` (from source, through tsx) as a real child process for the tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** A running (or exited) CLI process. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything it printed, stdout and stderr. */
  output: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Spawns the CLI with `args`. */
export function spawnCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output, exited };
}

/** Starts the CLI and waits for its "listening on" line; rejects if it exits first. */
export async function startCli(args: readonly string[]): Promise<CliProcess & { url: string }> {
  const proc = spawnCli(['--port', '0', ...args]);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(proc.output.join(''));
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    proc.child.stdout?.on('data', check);
    void proc.exited.then((code) =>
      reject(new Error(`server exited (${code}): ${proc.output.join('')}`)),
    );
  });
  return { ...proc, url };
}
