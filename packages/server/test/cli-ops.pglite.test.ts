/**
 * The CLI as an operator meets it (issue 11), with real processes on a real PGlite directory:
 * a second server on the same `--data` directory is refused with the holder's pid; a lock
 * left by a killed process is taken over; dev tokens survive a restart because the dev secret
 * lives in the data directory; dev auth refuses a public address unless told.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/node/start-server.js';
import { LOCK_FILE } from '../src/store/data-dir-lock.js';
import { type CliProcess, spawnCli, startCli } from './cli-process.js';
import { call, devToken, wirePut } from './http-support.js';

describe('syncline-server on a PGlite directory', () => {
  let dataDir: string;
  const running: CliProcess[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'syncline-cli-ops-'));
  });
  afterAll(async () => {
    for (const proc of running) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  const pushOne = (url: string, token: string, recordId: string) =>
    call(`${url}/v1/push`, {
      method: 'POST',
      token,
      json: {
        clientId: 'cli-test',
        sessionId: 's',
        mutations: [wirePut('user:alice', recordId, { recordId })],
      },
    });

  it('refuses a second process on the directory, takes over the lock of a killed one, and keeps dev tokens across the restart', async () => {
    const first = await startCli(['--data', dataDir, '--dev-auth']);
    running.push(first);
    const { token } = await devToken(first.url, 'alice');
    expect((await pushOne(first.url, token, 'before-kill')).status).toBe(200);
    const lock = JSON.parse(await readFile(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(first.child.pid);

    const second = spawnCli(['--port', '0', '--data', dataDir, '--dev-auth']);
    running.push(second);
    expect(await second.exited).toBe(1);
    const said = second.output.join('');
    expect(said).toContain(`is in use by process ${first.child.pid}`);
    expect(said).toContain('stop the other server or use another directory');
    expect(said).not.toContain('listening on');

    // kill -9: no shutdown, the lock file stays behind naming a dead process.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);

    const third = await startCli(['--data', dataDir, '--dev-auth']);
    running.push(third);
    // The token issued by the first process still works: same dev secret, from the directory.
    const pulled = await call(`${third.url}/v1/pull?scope=user:alice`, { token });
    expect(pulled.status).toBe(200);
    expect((pulled.body as { changes: { id: string }[] }).changes.map((c) => c.id)).toEqual([
      'before-kill',
    ]);
    expect((await pushOne(third.url, token, 'after-restart')).status).toBe(200);

    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false); // released on shutdown
  }, 180_000);

  it('takes the targeting limits of docs/server.md in --limits: an asset over maxAssetBytes is 413', async () => {
    const limits =
      '{"maxAssetBytes":1000,"maxUserStorageBytes":5000,"maxDeliveryTtlSeconds":60,"maxRecordBytes":4096}';
    const proc = await startCli([
      '--data',
      join(dataDir, 'limits'),
      '--dev-auth',
      '--limits',
      limits,
    ]);
    running.push(proc);
    const { token } = await devToken(proc.url, 'alice');
    const tooLarge = await call(`${proc.url}/v1/assets/${'a'.repeat(64)}`, {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-9/1001' },
      body: new Uint8Array(10),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: { code: 'too_large' } });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 120_000);

  it('refuses dev auth on a non-loopback address, and says how to allow it', async () => {
    const proc = spawnCli(['--port', '0', '--host', '0.0.0.0', '--dev-auth']);
    running.push(proc);
    expect(await proc.exited).toBe(2);
    const said = proc.output.join('');
    expect(said).toContain('refusing --dev-auth on --host 0.0.0.0');
    expect(said).toContain('--dev-auth-public');
    expect(said).not.toContain('listening on');
  }, 60_000);
});

describe('startServer and dev auth', () => {
  it('refuses dev auth on a public host unless devAuthPublic is set', async () => {
    await expect(startServer({ port: 0, host: '0.0.0.0', devAuth: true })).rejects.toThrow(
      /refusing development auth on 0\.0\.0\.0/,
    );
    const server = await startServer({
      port: 0,
      host: '0.0.0.0',
      devAuth: true,
      devAuthPublic: true,
    });
    try {
      expect((await devToken(server.url, 'bob')).token).toMatch(/^ey/);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('startServer and where asset bytes live', () => {
  /** Signs two sessions of alice in, uploads a 5000-byte asset and sends it from the first. */
  async function assetSent(url: string): Promise<{ reader: string; sha256: string }> {
    const sender = await devToken(url, 'alice');
    const reader = await devToken(url, 'alice');
    for (const { token, sessionId } of [sender, reader]) {
      const beat = await call(`${url}/v1/sessions/heartbeat`, {
        method: 'POST',
        token,
        json: { clientId: `c-${sessionId}`, sessionId },
      });
      expect(beat.status).toBe(200);
    }
    const bytes = new Uint8Array(5000).map((_, i) => i % 251);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const put = await call(`${url}/v1/assets/${sha256}`, {
      method: 'PUT',
      token: sender.token,
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-4999/5000' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const sent = await call(`${url}/v1/deliveries`, {
      method: 'POST',
      token: sender.token,
      json: {
        id: randomUUID(),
        scope: 'user:alice',
        kind: 'file',
        assetHash: sha256,
        target: { type: 'otherSessions' },
      },
    });
    expect(sent.status).toBe(201);
    return { reader: reader.token, sha256 };
  }

  it("keeps each server's bytes apart: another server's sweep never deletes them", async () => {
    const base = await mkdtemp(join(tmpdir(), 'syncline-two-apps-'));
    const servers = [
      await startServer({ port: 0, devAuth: true, dataDir: join(base, 'one'), sweepIntervalMs: 0 }),
      await startServer({ port: 0, devAuth: true, dataDir: join(base, 'two'), sweepIntervalMs: 0 }),
      await startServer({ port: 0, devAuth: true, sweepIntervalMs: 0 }),
      await startServer({ port: 0, devAuth: true, sweepIntervalMs: 0 }),
    ];
    try {
      for (const [mine, other] of [
        [0, 1],
        [2, 3],
      ] as const) {
        const server = servers[mine] as (typeof servers)[number];
        const { reader, sha256 } = await assetSent(server.url);
        expect((await (servers[other] as typeof server).handler.sweep()).deletedBlobs).toBe(0);
        const read = await fetch(`${server.url}/v1/assets/${sha256}`, {
          headers: { authorization: `Bearer ${reader}` },
        });
        expect(read.status).toBe(200);
        expect((await read.arrayBuffer()).byteLength).toBe(5000);
      }
      // A data directory keeps its asset bytes beside the database, as the CLI does.
      expect(existsSync(join(base, 'one', 'assets'))).toBe(true);
    } finally {
      for (const server of servers) await server.close();
      await rm(base, { recursive: true, force: true });
    }
  }, 120_000);
});
