// @vitest-environment happy-dom
import {
  ASSET_DELIVERY_KIND,
  type Delivery,
  memoryAssetStore,
  memoryStorage,
  multiTab,
  observeTransfers,
  type SyncClient,
  type TransferProgress,
} from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncProvider, useDeliveries, useSessions, useTransfers } from '../src/index.js';
import { RenderLog, settle, startedClient, until } from './support.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

const CHUNK = 1000;
let sessionsState: ReturnType<typeof useSessions> | undefined;

function Devices({ log }: { log: RenderLog }) {
  const state = useSessions();
  sessionsState = state;
  log.hit('devices', state.sessions?.map((s) => s.sessionId).join(',') ?? 'none');
  return null;
}

function Progress({ log }: { log: RenderLog }) {
  const transfers = useTransfers();
  log.hit(
    'transfers',
    transfers
      .map((t: TransferProgress) => `${t.direction}:${t.bytesDone}/${t.totalBytes}:${t.state}`)
      .join(' '),
  );
  return null;
}

function Inbox({ log }: { log: RenderLog }) {
  const received = useDeliveries(ASSET_DELIVERY_KIND);
  log.hit('inbox', received.length);
  return null;
}

let chats: readonly Delivery[] = [];

function Chat() {
  chats = useDeliveries('chat');
  return null;
}

function Unrelated({ log }: { log: RenderLog }) {
  log.hit('unrelated');
  return null;
}

describe('useSessions, useTransfers, useDeliveries', () => {
  const roots: Array<{ root: Root; container: HTMLElement }> = [];
  const clients: SyncClient[] = [];
  beforeEach(() => {
    sessionsState = undefined;
  });
  afterEach(async () => {
    for (const { root, container } of roots.splice(0)) {
      root.unmount();
      container.remove();
    }
    for (const client of clients.splice(0)) await client.stop();
  });

  function mount(client: SyncClient, children: React.ReactNode) {
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    roots.push({ root, container });
    root.render(<SyncProvider client={client}>{children}</SyncProvider>);
  }

  async function device(server: ReturnType<typeof createMemoryServer>, sessionId: string) {
    const client = await startedClient(server, undefined, {
      transport: server.connect({ userId: 'u1', sessionId }),
      assetStore: memoryAssetStore(),
      assetChunkBytes: CHUNK,
    });
    clients.push(client);
    return client;
  }

  it('lists the devices, signs one out, and renders only when the list changes', async () => {
    const server = createMemoryServer();
    const a = await device(server, 'sA');
    await device(server, 'sB');
    const log = new RenderLog();
    mount(
      a,
      <>
        <Devices log={log} />
        <Unrelated log={log} />
      </>,
    );
    await until(() => (sessionsState?.sessions?.length ?? 0) === 2, 'both devices listed');
    expect(sessionsState?.current?.sessionId).toBe('sA');
    const rendersBefore = log.of('devices');
    await a.put('todos', 't1', { title: 'unrelated write' });
    await settle(20);
    expect(log.of('devices')).toBe(rendersBefore); // a record write does not re-render it
    await sessionsState?.revoke('sB');
    const signedOut = () => {
      const b = sessionsState?.sessions?.find((s) => s.sessionId === 'sB');
      return b === undefined || !b.active;
    };
    await until(signedOut, 'B signed out');
    // One list change, a render or two (revoke, then the re-list), not one per event.
    expect(log.of('devices') - rendersBefore).toBeLessThanOrEqual(3);
    expect(log.of('unrelated')).toBe(1);
  });

  it('useDeliveries(kind) acknowledges only its kind: another kind waits for a listener of its own', async () => {
    const server = createMemoryServer();
    const a = await device(server, 'sA');
    const b = await device(server, 'sB');
    chats = [];
    mount(b, <Chat />);
    await settle(5);
    const url = await a.deliveries.send({
      kind: 'open-url',
      payload: { url: 'https://a.example' },
    });
    const chat = await a.deliveries.send({ kind: 'chat', payload: { text: 'hi' } });
    await until(() => chats.length === 1, 'the chat listed');
    expect(chats.map((d) => d.id)).toEqual([chat.id]);
    const acknowledged = async (id: string) => {
      for (let i = 0; i < 200 && !(await a.deliveries.status(id)).complete; i++) await settle(5);
      return (await a.deliveries.status(id)).complete;
    };
    expect(await acknowledged(chat.id)).toBe(true);
    await settle(20);
    expect((await a.deliveries.status(url.id)).acked).toEqual([]);
    const urls: string[] = [];
    b.on('delivery', ({ delivery }) => void urls.push(delivery.id), { kind: 'open-url' });
    await until(() => urls.length === 1, 'the open-url delivery handed over');
    expect(urls).toEqual([url.id]);
    expect(await acknowledged(url.id)).toBe(true);
    expect(chats.map((d) => d.id)).toEqual([chat.id]);
  });

  it('shows upload and download progress, and the file arriving on the other device', async () => {
    const server = createMemoryServer();
    const a = await device(server, 'sA');
    const b = await device(server, 'sB');
    const logA = new RenderLog();
    const logB = new RenderLog();
    mount(
      a,
      <>
        <Progress log={logA} />
        <Unrelated log={logA} />
      </>,
    );
    mount(
      b,
      <>
        <Progress log={logB} />
        <Inbox log={logB} />
      </>,
    );
    await settle(5);
    const moves: number[] = [];
    observeTransfers(a).subscribe(() => moves.push(a.assets.transfers()[0]?.bytesDone ?? -1));
    const file = new Uint8Array(5500).map((_, i) => i & 0xff);
    const sent = await a.assets.send(file, { name: 'photo.bin' });
    await until(() => logB.values('inbox').at(-1) === 1, 'the file in B');
    const uploads = logA.values('transfers') as string[];
    expect(uploads.at(-1)).toBe('upload:5500/5500:completed');
    // The observer under the hook saw the upload move chunk by chunk (React may batch renders).
    expect(new Set(moves).size).toBeGreaterThanOrEqual(5500 / CHUNK);
    expect(logA.of('transfers')).toBeLessThanOrEqual(moves.length + 2);
    await until(
      () => (logB.values('transfers').at(-1) as string) === 'download:5500/5500:completed',
      'the download completed',
    );
    const stored = await b.assets.get(sent.hash);
    expect(stored?.size).toBe(5500);
    expect(logA.of('unrelated')).toBe(1);
    // The snapshot is stable: renders stop when nothing moves.
    const settledRenders = logB.of('transfers');
    await settle(20);
    expect(logB.of('transfers')).toBe(settledRenders);
  });

  it('work in a follower tab: devices, the download progress and the file, through the leader', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const assetStore = memoryAssetStore();
    const tab = async () => {
      const client = await startedClient(server, undefined, {
        transport: server.connect({ userId: 'u1', sessionId: 'sT' }),
        storage,
        assetStore,
        assetChunkBytes: CHUNK,
        tabs: multiTab({ name: 'hooks-tabs', locks: null, leaderTimeoutMs: 400 }),
      });
      clients.push(client);
      return client;
    };
    const leader = await tab();
    const follower = await tab();
    expect([leader.tabRole, follower.tabRole]).toEqual(['leader', 'follower']);
    const phone = await device(server, 'sP');
    const log = new RenderLog();
    mount(
      follower,
      <>
        <Devices log={log} />
        <Progress log={log} />
        <Inbox log={log} />
      </>,
    );
    await until(() => (sessionsState?.sessions?.length ?? 0) === 2, 'both devices listed');
    expect(sessionsState?.current?.sessionId).toBe('sT');
    const file = new Uint8Array(4500).map((_, i) => (i * 3) & 0xff);
    await phone.assets.send(file, { name: 'scan.pdf' });
    await until(() => log.values('inbox').at(-1) === 1, 'the file in the follower tab');
    await until(
      () => (log.values('transfers').at(-1) as string) === 'download:4500/4500:completed',
      'the download shown in the follower tab',
    );
    // The progress moved in the follower as it moved in the leader, not only at the end.
    expect((log.values('transfers') as string[]).some((t) => t.includes(':in_progress'))).toBe(
      true,
    );
    await sessionsState?.revoke('sP');
    await until(
      () => !(sessionsState?.sessions ?? []).some((s) => s.sessionId === 'sP' && s.active),
      'the phone signed out from the follower tab',
    );
  });
});
