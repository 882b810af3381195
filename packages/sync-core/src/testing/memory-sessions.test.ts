/**
 * Regressions found by the delivery simulation (test/sim/deliveries.test.ts): the in-memory
 * server offered a completed delivery, even one past its TTL, to sessions that had not
 * acknowledged it, and took their acks after the TTL; the reference server lists only live
 * deliveries (neither complete nor expired) and refuses acks after the TTL. With assets in the
 * simulation: it served a delivery's bytes after the TTL (until something settled the expiry);
 * the reference server reads only through a live delivery or transfer (`isLive` at now).
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../assets/sha256.js';
import { createMemoryServer } from './memory-server.js';

const ID = '018bcfe5-6800-7000-8000-0000000000a1';
const a = { userId: 'u1', sessionId: 'sA' };
const b = { userId: 'u1', sessionId: 'sB' };
const c = { userId: 'u1', sessionId: 'sC' };

function world() {
  let now = 1_700_000_000_000;
  const server = createMemoryServer({ environment: { now: () => now } });
  const routes = server.sessionRoutes;
  for (const s of [a, b])
    routes.heartbeat(s, { clientId: `client-${s.sessionId}`, sessionId: s.sessionId });
  return {
    routes,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('memory server: only live deliveries are pending', () => {
  it('a completed delivery is not offered to a session that appears later, nor acknowledged by it', () => {
    const w = world();
    w.routes.sendDelivery(a, {
      id: ID,
      scope: 'user:u1',
      kind: 'k',
      target: { type: 'otherSessions' },
      ttlSeconds: 60,
    });
    expect(w.routes.ackDelivery(b, ID)).toEqual({ complete: true });
    w.routes.heartbeat(c, { clientId: 'client-sC', sessionId: 'sC' });
    expect(w.routes.pendingDeliveries(c)).toEqual([]);
    // A retried ack of a target stays idempotent while the delivery lives.
    expect(w.routes.ackDelivery(b, ID)).toEqual({ complete: true });
  });

  it('past its TTL a completed delivery is neither pending nor acknowledgeable', () => {
    const w = world();
    w.routes.sendDelivery(a, {
      id: ID,
      scope: 'user:u1',
      kind: 'k',
      target: { type: 'otherSessions' },
      ttlSeconds: 60,
    });
    w.routes.ackDelivery(b, ID);
    w.advance(61_000);
    w.routes.heartbeat(c, { clientId: 'client-sC', sessionId: 'sC' });
    expect(w.routes.pendingDeliveries(c)).toEqual([]);
    expect(() => w.routes.ackDelivery(c, ID)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => w.routes.ackDelivery(b, ID)).toThrow(expect.objectContaining({ status: 404 }));
    expect(w.routes.deliveryStatus(a, ID).status).toMatchObject({
      complete: true,
      expired: false,
      acked: ['sB'],
    });
  });

  it('a session listed by `sessions([...])` but stale at creation still receives it when it returns', () => {
    const w = world();
    w.routes.heartbeat(c, { clientId: 'client-sC', sessionId: 'sC' });
    w.advance(25 * 3_600_000);
    w.routes.heartbeat(a, { clientId: 'client-sA', sessionId: 'sA' });
    w.routes.heartbeat(b, { clientId: 'client-sB', sessionId: 'sB' });
    w.routes.sendDelivery(a, {
      id: ID,
      scope: 'user:u1',
      kind: 'k',
      target: { type: 'sessions', ids: ['sB', 'sC'] },
      ttlSeconds: 60,
    });
    expect(w.routes.deliveryStatus(a, ID).status.targets).toEqual(['sB']);
    w.routes.heartbeat(c, { clientId: 'client-sC', sessionId: 'sC' });
    expect(w.routes.pendingDeliveries(c).map((d) => d.id)).toEqual([ID]);
    expect(w.routes.ackDelivery(c, ID)).toEqual({ complete: false });
  });
});

describe('memory server: asset bytes only through a live delivery or transfer', () => {
  const bytes = new TextEncoder().encode('a photo');
  const hash = sha256Hex(bytes);

  it('a receiver cannot read the bytes of a delivery past its TTL, though no sweep ran since', () => {
    // Found by the delivery simulation with assets (seed 31): a member of the scope still
    // downloading when the TTL passed got the bytes, because the read did not settle the expiry.
    let now = 1_700_000_000_000;
    const server = createMemoryServer({
      environment: { now: () => now },
      authorizeScope: () => true,
      listScopeMembers: () => ['u1', 'u2'],
    });
    const routes = server.sessionRoutes;
    const member = { userId: 'u2', sessionId: 'sM' };
    for (const s of [a, member])
      routes.heartbeat(s, { clientId: `client-${s.sessionId}`, sessionId: s.sessionId });
    routes.uploadAsset(a, { sha256: hash, offset: 0, totalSize: bytes.length, chunk: bytes });
    routes.sendDelivery(a, {
      id: ID,
      scope: 'workspace:1',
      kind: 'k',
      assetHash: hash,
      target: { type: 'scopeMembers' },
      ttlSeconds: 60,
    });
    expect(routes.downloadAsset(member, { sha256: hash, start: 0 })).toEqual(bytes);
    now += 60_000;
    expect(() => routes.downloadAsset(member, { sha256: hash, start: 0 })).toThrow(
      expect.objectContaining({ status: 404 }),
    );
    expect(() => routes.probeAsset(member, hash)).toThrow(expect.objectContaining({ status: 404 }));
  });

  it('a requester cannot read the bytes of a transfer past its TTL, though nothing expired it yet', () => {
    let now = 1_700_000_000_000;
    const server = createMemoryServer({
      environment: { now: () => now },
      transferTtlSeconds: 60,
      authorizeScope: () => true,
    });
    const routes = server.sessionRoutes;
    const holder = { userId: 'u2', sessionId: 'sH' };
    for (const s of [a, holder])
      routes.heartbeat(s, { clientId: `client-${s.sessionId}`, sessionId: s.sessionId });
    routes.createTransfer(a, {
      id: ID,
      scope: 'workspace:1',
      assetHash: hash,
      from: { userId: 'u2' },
    });
    routes.uploadAsset(holder, { sha256: hash, offset: 0, totalSize: bytes.length, chunk: bytes });
    expect(routes.downloadAsset(a, { sha256: hash, start: 0 })).toEqual(bytes);
    now += 60_000;
    expect(() => routes.downloadAsset(a, { sha256: hash, start: 0 })).toThrow(
      expect.objectContaining({ status: 404 }),
    );
  });

  it('a transfer on request is made under a delivery TTL cap below 48 h (its request is not a send)', () => {
    // Parity with the reference server, whose transfer and request live 48 h whatever the cap.
    let now = 1_700_000_000_000;
    const server = createMemoryServer({
      environment: { now: () => now },
      maxDeliveryTtlSeconds: 3600,
      authorizeScope: () => true,
    });
    const routes = server.sessionRoutes;
    const holder = { userId: 'u2', sessionId: 'sH' };
    for (const s of [a, holder])
      routes.heartbeat(s, { clientId: `client-${s.sessionId}`, sessionId: s.sessionId });
    const transfer = routes.createTransfer(a, {
      id: ID,
      scope: 'workspace:1',
      assetHash: hash,
      from: { userId: 'u2' },
    });
    expect(transfer.expiresAt - transfer.createdAt).toBe(172_800_000);
    expect(routes.pendingDeliveries(holder).map((d) => d.id)).toEqual([ID]);
    now += 3_600_000;
    expect(routes.pendingDeliveries(holder).map((d) => d.id)).toEqual([ID]);
  });

  it("a re-login that replaces a device's session completes what waited only on the old session and frees its asset", () => {
    // Parity with the reference server and Supabase, which complete in the revoking
    // transaction what a revocation, or a re-login's replacement, leaves owed to nobody.
    const w = world();
    const ID2 = '018bcfe5-6800-7000-8000-0000000000a2';
    w.routes.heartbeat(c, { clientId: 'client-sC', sessionId: 'sC' });
    w.routes.uploadAsset(a, { sha256: hash, offset: 0, totalSize: bytes.length, chunk: bytes });
    w.routes.sendDelivery(a, {
      id: ID,
      scope: 'user:u1',
      kind: 'k',
      assetHash: hash,
      target: { type: 'sessions', ids: ['sB'] },
      ttlSeconds: 60,
    });
    w.routes.sendDelivery(a, {
      id: ID2,
      scope: 'user:u1',
      kind: 'k',
      target: { type: 'otherSessions' },
      ttlSeconds: 60,
    });
    const again = { userId: 'u1', sessionId: 'sB2' };
    w.routes.heartbeat(again, { clientId: 'client-sB', sessionId: 'sB2' });
    expect(w.routes.deliveryStatus(a, ID).status.complete).toBe(true);
    expect(w.routes.assets.hasComplete('u1', hash)).toBe(false);
    // C still owes the other one.
    expect(w.routes.deliveryStatus(a, ID2).status.complete).toBe(false);
    expect(w.routes.ackDelivery(c, ID2)).toEqual({ complete: true });
  });
});

describe('memory server: the default authorizeScope follows listScopeMembers', () => {
  it('as on the reference server: listed members use the scope without an authorizeScope of their own', () => {
    const server = createMemoryServer({
      listScopeMembers: (scope) => (scope === 'workspace:1' ? ['owner', 'member'] : []),
    });
    const routes = server.sessionRoutes;
    const owner = { userId: 'owner', sessionId: 'sO' };
    const member = { userId: 'member', sessionId: 'sM' };
    const stranger = { userId: 'stranger', sessionId: 'sX' };
    for (const s of [owner, member, stranger])
      routes.heartbeat(s, { clientId: `client-${s.sessionId}`, sessionId: s.sessionId });
    const request = (id: string) => ({
      id,
      scope: 'workspace:1',
      assetHash: sha256Hex(new Uint8Array([1])),
      from: { userId: 'owner' },
    });
    expect(routes.createTransfer(member, request(ID)).state).toBe('pending');
    const delivery = routes.sendDelivery(owner, {
      id: '018bcfe5-6800-7000-8000-0000000000a2',
      scope: 'workspace:1',
      kind: 'note',
      target: { type: 'scopeMembers' },
    });
    expect(delivery.targetSessionIds).toEqual(['sM']);
    expect(() =>
      routes.createTransfer(stranger, request('018bcfe5-6800-7000-8000-0000000000a3')),
    ).toThrow(expect.objectContaining({ status: 403 }));
    // The records of the scope follow the same membership.
    expect(server.pull(member, { scope: 'workspace:1', checkpoint: null }).changes).toEqual([]);
    expect(() => server.pull(stranger, { scope: 'workspace:1', checkpoint: null })).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });
});
