import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SyncClient } from '../api/client.js';
import {
  clientWins,
  fieldMerge,
  lww,
  manual,
  recordLww,
  serverWins,
} from '../conflict/resolvers.js';
import type { ConflictResolver, ParkedConflict } from '../conflict/types.js';
import type { JsonObject } from '../protocol/types.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSyncClient } from './create-sync-client.js';
import { testEnvironment } from './test-support.js';

let seed = 500;

/** Counter-style custom resolver: adds both sides' increments of `n` to the server's value. */
const addCounts: ConflictResolver = ({ base, local, server }) => {
  if (local === null || server === null) return { action: 'server' };
  const delta = Number(local.n) - Number(base?.n ?? 0);
  return { action: 'write', data: { ...server, n: Number(server.n) + delta } };
};

interface Case {
  name: string;
  resolver: ConflictResolver;
  editA: JsonObject;
  editB: JsonObject;
  expected: JsonObject;
}

const base = { title: 'base', body: 'base', n: 0 };
const cases: Case[] = [
  {
    name: 'serverWins',
    resolver: serverWins(),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'A', body: 'base', n: 0 },
  },
  {
    name: 'clientWins',
    resolver: clientWins(),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'base', body: 'B', n: 0 },
  },
  // The default: concurrent patches of different fields both survive (issue 10, point 6).
  {
    name: 'lww (per field, the default)',
    resolver: lww(),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'A', body: 'B', n: 0 },
  },
  // Both patch the same field: B edits later (its clock is 1 s ahead), so B's value wins.
  {
    name: 'lww (per field), same field',
    resolver: lww(),
    editA: { title: 'A', n: 1 },
    editB: { title: 'B' },
    expected: { title: 'B', body: 'base', n: 1 },
  },
  // Whole-record LWW by name: B's later write wins as a whole, A's title is lost.
  {
    name: 'recordLww',
    resolver: recordLww(),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'base', body: 'B', n: 0 },
  },
  {
    name: "lww({ granularity: 'record' })",
    resolver: lww({ granularity: 'record' }),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'base', body: 'B', n: 0 },
  },
  {
    name: 'fieldMerge',
    resolver: fieldMerge(),
    editA: { title: 'A' },
    editB: { body: 'B' },
    expected: { title: 'A', body: 'B', n: 0 },
  },
  {
    name: 'custom (counter)',
    resolver: addCounts,
    editA: { n: 1 },
    editB: { n: 2 },
    expected: { title: 'base', body: 'base', n: 3 },
  },
];

async function twoClients(resolver: ConflictResolver, schema?: StandardSchemaV1) {
  const server = createMemoryServer();
  const envA = testEnvironment({ seed: seed++ });
  const envB = testEnvironment({ seed: seed++ });
  const options = { collections: { docs: { conflict: resolver, ...(schema && { schema }) } } };
  const a = createSyncClient({
    transport: server.connect({ userId: 'u1' }),
    storage: memoryStorage(),
    environment: envA,
    ...options,
  });
  const b = createSyncClient({
    transport: server.connect({ userId: 'u1' }),
    storage: memoryStorage(),
    environment: envB,
    ...options,
  });
  await a.start();
  await b.start();
  await a.put('docs', 'd', base);
  await a.syncNow();
  await b.syncNow();
  expect(b.get('docs', 'd')).toEqual(base);
  return { server, a, b, envA, envB };
}

/**
 * A sets `docs/d`'s title to 'A' while B, offline too, makes `editB`; then A syncs first and B
 * second, so B's edit of `d` meets a conflict.
 */
async function offlineEdits(
  parts: {
    a: SyncClient;
    b: SyncClient;
    envA: { setOnline(online: boolean): void };
    envB: { setOnline(online: boolean): void };
  },
  editB: (b: SyncClient) => Promise<void>,
): Promise<void> {
  const { a, b, envA, envB } = parts;
  envA.setOnline(false);
  envB.setOnline(false);
  await a.patch('docs', 'd', { title: 'A' });
  await editB(b);
  envA.setOnline(true);
  await a.syncNow();
  envB.setOnline(true);
  await b.syncNow();
}

/** B's edit for {@link offlineEdits}: its title 'B'. */
const retitleB = (b: SyncClient) => b.patch('docs', 'd', { title: 'B' });

/** B's edit for {@link offlineEdits}: a transaction that retitles `d` and puts `docs/fresh`. */
const transactionB = (b: SyncClient) =>
  b.transaction((tx) => {
    tx.patch('docs', 'd', { title: 'B' });
    tx.put('docs', 'fresh', { from: 'tx' });
  });

describe('two clients edit one record offline', () => {
  for (const c of cases) {
    it(`${c.name}: both converge on what the resolver promises`, async () => {
      const { server, a, b, envA, envB } = await twoClients(c.resolver);
      envA.setOnline(false);
      envB.setOnline(false);
      await a.patch('docs', 'd', c.editA);
      await envB.advance(1000);
      await b.patch('docs', 'd', c.editB);
      envA.setOnline(true);
      await a.syncNow();
      envB.setOnline(true);
      await b.syncNow();
      await a.syncNow();
      await b.syncNow();
      const serverData = server.records('user:u1').find((r) => r.id === 'd')?.data;
      expect(serverData).toEqual(c.expected);
      expect(a.get('docs', 'd')).toEqual(c.expected);
      expect(b.get('docs', 'd')).toEqual(c.expected);
      expect(server.stats.conflicts).toBeGreaterThanOrEqual(1);
      expect(a.status.pending + b.status.pending).toBe(0);
    });
  }

  it('manual: parks the conflict, tells the app, goes on, and the app decides', async () => {
    const { server, a, b, envA, envB } = await twoClients(manual());
    const parked: ParkedConflict[] = [];
    b.on('conflict', (conflict) => parked.push(conflict));
    envA.setOnline(false);
    envB.setOnline(false);
    await a.patch('docs', 'd', { title: 'A' });
    await b.patch('docs', 'd', { body: 'B' });
    await b.put('docs', 'other', { fine: true });
    envA.setOnline(true);
    await a.syncNow();
    envB.setOnline(true);
    await b.syncNow();
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      collection: 'docs',
      recordId: 'd',
      base,
      local: { ...base, body: 'B' },
      server: { data: { ...base, title: 'A' } },
    });
    expect(b.conflicts()).toEqual(parked);
    expect(b.recordStatus('docs', 'd')).toBe('conflict');
    expect(b.status.conflicts).toBe(1);
    // The rest of the queue went on; the view shows the server's record meanwhile.
    expect(server.records('user:u1').some((r) => r.id === 'other')).toBe(true);
    expect(b.get('docs', 'd')).toEqual({ ...base, title: 'A' });
    const merged = { title: 'A', body: 'B', n: 0 };
    await b.resolveConflict(parked[0]?.mutationId as string, { action: 'write', data: merged });
    await b.syncNow();
    await a.syncNow();
    expect(b.conflicts()).toEqual([]);
    expect(a.get('docs', 'd')).toEqual(merged);
    expect(b.get('docs', 'd')).toEqual(merged);
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual(merged);
    expect(b.recordStatus('docs', 'd')).toBe('synced');
  });

  it('manual: the data a resolution writes is checked against the schema, as a put', async () => {
    const schema = z.object({ title: z.string().min(1), body: z.string(), n: z.number() });
    const clients = await twoClients(manual(), schema);
    const { server, b } = clients;
    await offlineEdits(clients, retitleB);
    const id = b.conflicts()[0]?.mutationId as string;
    const refused = await b
      .resolveConflict(id, { action: 'write', data: { ...base, title: '' } })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ kind: 'invalid', code: 'schema' });
    expect(b.conflicts()).toHaveLength(1); // still parked, nothing queued
    expect(b.status.pending).toBe(0);
    // The schema's output is written (zod strips the unknown key).
    await b.resolveConflict(id, { action: 'write', data: { ...base, title: 'A+B', extra: 1 } });
    await b.syncNow();
    expect(b.conflicts()).toHaveLength(0);
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual({
      ...base,
      title: 'A+B',
    });
  });

  it('manual: keeping the server version drops the local edit everywhere', async () => {
    const clients = await twoClients(manual());
    const { a, b } = clients;
    await offlineEdits(clients, retitleB);
    const [conflict] = b.conflicts();
    await b.resolveConflict(conflict?.mutationId as string, { action: 'server' });
    await b.syncNow();
    expect(b.conflicts()).toHaveLength(0);
    expect(b.get('docs', 'd')).toEqual({ ...base, title: 'A' });
    expect(a.get('docs', 'd')).toEqual({ ...base, title: 'A' });
  });

  it('a delete does not lose to a stale put: the tombstone is a conflict, not a resurrection', async () => {
    const { server, a, b, envA, envB } = await twoClients(serverWins());
    envA.setOnline(false);
    envB.setOnline(false);
    await a.delete('docs', 'd');
    await b.put('docs', 'd', { title: 'stale' });
    envA.setOnline(true);
    await a.syncNow();
    envB.setOnline(true);
    await b.syncNow();
    await a.syncNow();
    expect(server.records('user:u1').find((r) => r.id === 'd')).toMatchObject({ deleted: true });
    expect(a.get('docs', 'd')).toBeUndefined();
    expect(b.get('docs', 'd')).toBeUndefined();
  });

  it('transaction members held back by a conflicting sibling are re-sent, not resolved', async () => {
    const calls: string[] = [];
    const spy: ConflictResolver = (ctx) => {
      calls.push(ctx.id);
      return clientWins()(ctx);
    };
    const { server, a, b, envA, envB } = await twoClients(spy);
    await offlineEdits({ a, b, envA, envB }, transactionB);
    expect(calls).toEqual(['d']);
    expect(server.records('user:u1').find((r) => r.id === 'fresh')?.data).toEqual({ from: 'tx' });
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual({
      ...base,
      title: 'B',
    });
  });

  it('a parked transaction member does not hold its siblings back for ever', async () => {
    const { server, a, b, envA, envB } = await twoClients(() => ({ action: 'manual' }));
    await offlineEdits({ a, b, envA, envB }, transactionB);
    await b.syncNow();
    expect(b.conflicts()).toEqual([expect.objectContaining({ recordId: 'd' })]);
    expect(server.records('user:u1').find((r) => r.id === 'fresh')?.data).toEqual({ from: 'tx' });
    expect(b.recordStatus('docs', 'fresh')).toBe('synced');
  });

  it('a transaction that writes one record twice is sent as one write of it', async () => {
    const { server, b } = await twoClients(clientWins());
    await b.transaction((tx) => {
      tx.put('docs', 'd', { title: 'first', n: 1 });
      tx.patch('docs', 'd', { title: 'second' });
      tx.put('docs', 'other', { v: 1 });
    });
    await b.syncNow();
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual({
      title: 'second',
      n: 1,
    });
    expect(server.records('user:u1').find((r) => r.id === 'other')?.data).toEqual({ v: 1 });
    expect(b.recordStatus('docs', 'd')).toBe('synced');
  });
});
