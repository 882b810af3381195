/**
 * Two `syncline-server` processes on one PostgreSQL database: a push to one pokes the event
 * streams of the other (LISTEN/NOTIFY fan-out), with the changes once the scope's first poke
 * went, and SIGTERM shuts a process down gracefully.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { type CliProcess, startCli as startServerCli } from './cli-process.js';
import { call, devToken, hlcNow, openEvents, wirePut } from './http-support.js';
import { freshDatabase } from './support.js';

const adminUrl = postgresUrl();

type Proc = CliProcess & { url: string };

/** Starts the CLI on `databaseUrl` with dev auth. */
function startCli(databaseUrl: string): Promise<Proc> {
  return startServerCli(['--database-url', databaseUrl, '--dev-auth']);
}

describePostgres()('two server processes on one database', () => {
  let db: { url: string; drop: () => Promise<void> };
  let first: Proc;
  let second: Proc;

  beforeAll(async () => {
    db = await freshDatabase(adminUrl as string);
    [first, second] = await Promise.all([startCli(db.url), startCli(db.url)]);
  }, 120_000);
  afterAll(async () => {
    for (const proc of [first, second]) {
      if (proc !== undefined && proc.child.exitCode === null) {
        proc.child.kill('SIGTERM');
        await proc.exited;
      }
    }
    await db?.drop();
  });

  it('warns loudly about dev auth at start', () => {
    expect(first.output.join('')).toMatch(/DEVELOPMENT AUTH IS ON/);
  });

  it('pokes a client of process 1 about a push to process 2, then shuts down gracefully', async () => {
    const userId = 'two-proc-user';
    const scope = `user:${userId}`;
    // Dev secrets are per process: each process gets its own token for the same user.
    const onFirst = await devToken(first.url, userId);
    const onSecond = await devToken(second.url, userId);
    const events = await openEvents(first.url, onFirst.token, [scope]);
    expect(events.status).toBe(200);
    await expect.poll(() => events.comments).toContain('connected');

    const answer = await call(`${second.url}/v1/push`, {
      method: 'POST',
      token: onSecond.token,
      json: {
        clientId: 'phone',
        sessionId: onSecond.sessionId,
        mutations: [wirePut(scope, 'r1', { title: 'from process 2' }, { hlc: hlcNow('phone') })],
      },
    });
    expect(answer.status).toBe(200);
    await expect
      .poll(() => events.pokes, { timeout: 10_000 })
      .toEqual([{ scope, version: 1, originClientId: 'phone' }]);
    const pulled = await call(`${first.url}/v1/pull?scope=${scope}`, { token: onFirst.token });
    expect(pulled.body).toMatchObject({
      changes: [{ id: 'r1', data: { title: 'from process 2' } }],
    });

    // The next push to process 2 reaches process 1's stream with its changes: process 1 read
    // them from the shared database, continuing from the checkpoint the pull just returned.
    const second2 = await call(`${second.url}/v1/push`, {
      method: 'POST',
      token: onSecond.token,
      json: {
        clientId: 'phone',
        sessionId: onSecond.sessionId,
        mutations: [
          wirePut(scope, 'r2', { title: 'carried by the poke' }, { hlc: hlcNow('phone') }),
        ],
      },
    });
    expect(second2.status).toBe(200);
    await expect.poll(() => events.pokes.length, { timeout: 10_000 }).toBe(2);
    const after = await call(
      `${first.url}/v1/pull?scope=${scope}&checkpoint=${(pulled.body as { checkpoint: string }).checkpoint}`,
      { token: onFirst.token },
    );
    expect(events.pokes[1]).toEqual({
      scope,
      version: 2,
      originClientId: 'phone',
      fromCheckpoint: (pulled.body as { checkpoint: string }).checkpoint,
      checkpoint: (after.body as { checkpoint: string }).checkpoint,
      changes: (after.body as { changes: unknown[] }).changes,
    });
    expect(events.pokes[1]?.changes).toMatchObject([
      { id: 'r2', revision: 2, data: { title: 'carried by the poke' } },
    ]);
    expect((await call(`${first.url}/healthz`)).status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    events.close();
    expect(first.output.join('')).toMatch(/SIGTERM: shutting down/);
  }, 60_000);
});
