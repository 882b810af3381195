/**
 * Two devices of one user sync through the app's own REST API with resourceTransport and
 * createSyncClient: live sync, offline edits, a 409 settled by each resolver, a delete racing an
 * edit (no resurrection), signed-out projects claimed at sign-in, and a PUT whose answer was lost
 * after the API applied it.
 */
import {
  type ConflictResolver,
  clientWins,
  fieldMerge,
  lww,
  manual,
  type SyncClient,
  serverWins,
} from '@syncline/sync-core';
import { type FaultyTransport, withFaults } from '@syncline/sync-core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DroppingProxy,
  startDroppingProxy,
} from '../../../packages/adapter-rest/test/support/dropping-proxy.js';
import { type RunningApi, startProjectsApi } from '../src/server.js';
import { type Device, device, signIn } from './support.js';

// Outcomes, not timings: generous so a loaded machine does not turn slowness into failure.
const EVENTUALLY = { timeout: 15_000, interval: 25 };

let api: RunningApi;
let proxy: DroppingProxy;
const clients: SyncClient[] = [];
let users = 0;

beforeAll(async () => {
  api = await startProjectsApi();
  proxy = await startDroppingProxy(api.url);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await proxy?.close();
  await api?.close();
});

const newUser = () => `user${Date.now().toString(36)}${users++}@example.com`;

async function open(
  email: string | undefined,
  options: { conflict?: ConflictResolver; offlineable?: boolean; baseUrl?: string } = {},
): Promise<Device & { network?: FaultyTransport }> {
  let network: FaultyTransport | undefined;
  const dev = await device(options.baseUrl ?? api.url, {
    ...(email === undefined ? {} : { email }),
    ...(options.conflict === undefined ? {} : { conflict: options.conflict }),
    ...(options.offlineable ? { wrap: (t) => (network = withFaults(t, {})) } : {}),
  });
  clients.push(dev.client);
  return network === undefined ? dev : { ...dev, network };
}

/** What the API itself holds for `id` (through its own routes). */
async function onServer(email: string, id: string) {
  const { token } = await signIn(api.url, email);
  const response = await fetch(`${api.url}/api/projects/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status === 404 ? undefined : ((await response.json()) as Record<string, unknown>);
}

const synced = (client: SyncClient) => () => {
  expect(client.status.pending).toBe(0);
  expect(client.status.state).toBe('synced');
};

describe('two devices through the projects API', () => {
  it('a project added on one device appears on the other, and an edit comes back', async () => {
    const email = newUser();
    const [a, b] = [await open(email), await open(email)];
    await a.client.put('projects', 'p1', { name: 'Roadmap', data: { stage: 1 } });
    await vi.waitFor(
      () => expect(b.client.get('projects', 'p1')).toEqual({ name: 'Roadmap', data: { stage: 1 } }),
      EVENTUALLY,
    );
    await b.client.patch('projects', 'p1', { name: 'Roadmap 2027' });
    await vi.waitFor(
      () =>
        expect(a.client.get('projects', 'p1')).toEqual({
          name: 'Roadmap 2027',
          data: { stage: 1 },
        }),
      EVENTUALLY,
    );
    expect(await onServer(email, 'p1')).toMatchObject({ name: 'Roadmap 2027', revision: 2 });
  });

  it('edits made offline land when the device is back online', async () => {
    const email = newUser();
    const a = await open(email);
    const b = await open(email, { offlineable: true });
    b.network?.setOffline(true);
    await b.client.put('projects', 'x', { name: 'written offline', data: {} });
    await b.client.put('projects', 'y', { name: 'also offline', data: {} });
    expect(b.client.status.pending).toBe(2);
    expect(await onServer(email, 'x')).toBeUndefined();
    b.network?.setOffline(false);
    await vi.waitFor(synced(b.client), EVENTUALLY);
    await vi.waitFor(
      () => expect(a.client.get('projects', 'y')).toEqual({ name: 'also offline', data: {} }),
      EVENTUALLY,
    );
  });

  describe('a 409 from the API is a conflict the collection resolver settles', () => {
    // A renames the project while B, offline, changes its data.
    async function race(conflict: ConflictResolver) {
      const email = newUser();
      const a = await open(email, { conflict });
      const b = await open(email, { conflict, offlineable: true });
      await a.client.put('projects', 'p', { name: 'Original', data: { color: 'red' } });
      await vi.waitFor(() => expect(b.client.get('projects', 'p')).toBeDefined(), EVENTUALLY);
      b.network?.setOffline(true);
      await a.client.put('projects', 'p', { name: 'Renamed by A', data: { color: 'red' } });
      await vi.waitFor(synced(a.client), EVENTUALLY);
      await b.client.put('projects', 'p', { name: 'Original', data: { color: 'blue' } });
      b.network?.setOffline(false);
      return { email, a, b };
    }

    async function converged(email: string, a: Device, b: Device, expected: unknown) {
      await vi.waitFor(() => {
        expect(b.client.status.pending).toBe(0);
        expect(b.client.get('projects', 'p')).toEqual(expected);
        expect(a.client.get('projects', 'p')).toEqual(expected);
      }, EVENTUALLY);
      expect(await onServer(email, 'p')).toMatchObject(expected as object);
    }

    it('serverWins keeps the API copy', async () => {
      const { email, a, b } = await race(serverWins());
      await converged(email, a, b, { name: 'Renamed by A', data: { color: 'red' } });
    });

    it('clientWins writes the offline edit on top', async () => {
      const { email, a, b } = await race(clientWins());
      await converged(email, a, b, { name: 'Original', data: { color: 'blue' } });
    });

    it('lww keeps the later write (B wrote after A)', async () => {
      const { email, a, b } = await race(lww());
      await converged(email, a, b, { name: 'Original', data: { color: 'blue' } });
    });

    it('fieldMerge keeps both fields', async () => {
      const { email, a, b } = await race(fieldMerge());
      await converged(email, a, b, { name: 'Renamed by A', data: { color: 'blue' } });
    });

    it('manual parks it until the app decides', async () => {
      const { email, a, b } = await race(manual());
      await vi.waitFor(() => expect(b.client.conflicts()).toHaveLength(1), EVENTUALLY);
      const [parked] = b.client.conflicts();
      expect(parked?.server?.data).toEqual({ name: 'Renamed by A', data: { color: 'red' } });
      expect(parked?.local).toEqual({ name: 'Original', data: { color: 'blue' } });
      await b.client.resolveConflict(parked?.mutationId as string, {
        action: 'write',
        data: { name: 'Renamed by A', data: { color: 'purple' } },
      });
      await converged(email, a, b, { name: 'Renamed by A', data: { color: 'purple' } });
    });
  });

  it('a delete on one device while the other edits offline: the edit conflicts, nothing is resurrected', async () => {
    const email = newUser();
    const a = await open(email, { conflict: serverWins() });
    const b = await open(email, { conflict: serverWins(), offlineable: true });
    await a.client.put('projects', 'doomed', { name: 'Old', data: {} });
    await vi.waitFor(() => expect(b.client.get('projects', 'doomed')).toBeDefined(), EVENTUALLY);
    b.network?.setOffline(true);
    await a.client.delete('projects', 'doomed');
    await vi.waitFor(synced(a.client), EVENTUALLY);
    await b.client.put('projects', 'doomed', { name: 'Edited while deleted', data: {} });
    b.network?.setOffline(false);
    await vi.waitFor(() => {
      expect(b.client.status.pending).toBe(0);
      expect(b.client.get('projects', 'doomed')).toBeUndefined();
    }, EVENTUALLY);
    expect(await onServer(email, 'doomed')).toBeUndefined();
    expect(a.client.get('projects', 'doomed')).toBeUndefined();
  });

  it('projects written signed out are claimed at sign-in and reach the API', async () => {
    const email = newUser();
    const dev = await open(undefined);
    await dev.client.put('projects', 'local-1', { name: 'Before sign-in', data: {} });
    expect(dev.client.status.state).toBe('local');
    await dev.signIn(email);
    await vi.waitFor(synced(dev.client), EVENTUALLY);
    expect(await onServer(email, 'local-1')).toMatchObject({ name: 'Before sign-in', revision: 1 });
  });

  it('a PUT whose answer was lost after the API applied it is applied once', async () => {
    const email = newUser();
    // manual(): a retry that turned into a conflict would be parked, not silently settled.
    const dev = await open(email, { baseUrl: proxy.url, conflict: manual() });
    await vi.waitFor(synced(dev.client), EVENTUALLY);
    const dropped = proxy.requests.filter((r) => r.dropped).length;
    proxy.dropNext(1, (method) => method === 'PUT');
    await dev.client.put('projects', 'once', { name: 'Exactly once', data: {} });
    await vi.waitFor(() => {
      expect(dev.client.status.pending).toBe(0);
      expect(dev.client.recordStatus('projects', 'once')).toBe('synced');
    }, EVENTUALLY);
    expect(proxy.requests.filter((r) => r.dropped).length).toBe(dropped + 1);
    expect(dev.client.conflicts()).toEqual([]);
    expect(dev.client.deadLetters()).toEqual([]);
    // The retry met a 409 whose server copy was exactly what it sent: taken as applied.
    expect(await onServer(email, 'once')).toMatchObject({ name: 'Exactly once', revision: 1 });
  });
});
