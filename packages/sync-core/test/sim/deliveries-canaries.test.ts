/**
 * "Test the tests" for the delivery simulation: each test-only fake below breaks one rule of
 * session targeting (a client whose handled set is not durable, a server that completes a
 * delivery before its targets acknowledged, a client that never acknowledges), and the
 * simulation must name the broken rule within a few seeds that pass without the fake. A fake
 * the client must withstand (a transport that offers acknowledged deliveries again) must not
 * make any seed fail.
 */
import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../../src/storage/types.js';
import {
  type DeliveryBackend,
  memoryDeliveryBackend,
  simulateDeliveries,
} from '../../src/testing/sim/deliveries/index.js';
import type { SyncTransport } from '../../src/transport/types.js';
import { CHAOS_MS, firstCaught, SEEDS } from './first-caught.js';

// A device downloading a dozen assets at once has as many requests listening on its session's
// abort signal: more than Node's default of 10 listeners per signal, which it warns about.
setMaxListeners(100);

/** Storage that keeps everything except the inbox's handled ids (lost at each restart). */
function forgetfulInbox(storage: StorageAdapter): StorageAdapter {
  const volatile = new Map<string, unknown>();
  const isInbox = (key: string) => key.startsWith('delivery/');
  return {
    ...storage,
    get: async (namespace, key) =>
      isInbox(key) ? volatile.get(`${namespace}|${key}`) : storage.get(namespace, key),
    list: async (namespace, prefix) =>
      isInbox(prefix)
        ? [...volatile]
            .filter(([k]) => k.startsWith(`${namespace}|${prefix}`))
            .map(([k, v]) => [k.slice(namespace.length + 1), v] as [string, unknown])
        : storage.list(namespace, prefix),
    write: async (namespace, ops) => {
      const kept = ops.filter((op) => {
        if (!isInbox(op.key)) return true;
        if (op.type === 'set') volatile.set(`${namespace}|${op.key}`, op.value);
        else volatile.delete(`${namespace}|${op.key}`);
        return false;
      });
      if (kept.length > 0) await storage.write(namespace, kept);
    },
  };
}

/** A server that, at the first ack of a delivery, takes the acks of every other target too. */
function completesEarly(inner: DeliveryBackend, targetsOf: Map<string, string[]>): DeliveryBackend {
  return {
    ...inner,
    send: async (auth, body) => {
      const delivery = await inner.send(auth, body);
      targetsOf.set(delivery.id, delivery.targetSessionIds ?? []);
      return delivery;
    },
    ack: async (auth, id) => {
      const answer = await inner.ack(auth, id);
      for (const sessionId of targetsOf.get(id) ?? []) {
        if (sessionId === auth.sessionId) continue;
        await inner.ack({ userId: auth.userId, sessionId }, id).catch(() => undefined);
      }
      targetsOf.delete(id);
      return answer;
    },
  };
}

/** A client transport whose acks answer without reaching the server. */
function swallowAcks(transport: SyncTransport): SyncTransport {
  const deliveries = transport.deliveries;
  if (deliveries === undefined) return transport;
  return { ...transport, deliveries: { ...deliveries, ack: async () => ({ complete: false }) } };
}

/** A transport that offers every delivery this life acknowledged again in each pending list. */
function redeliverAfterAck(transport: SyncTransport): SyncTransport {
  const deliveries = transport.deliveries;
  if (deliveries === undefined) return transport;
  const acked = new Map<string, Awaited<ReturnType<typeof deliveries.pending>>[number]>();
  const seen = new Map<string, Awaited<ReturnType<typeof deliveries.pending>>[number]>();
  return {
    ...transport,
    deliveries: {
      ...deliveries,
      pending: async (signal) => {
        const list = await deliveries.pending(signal);
        for (const d of list) seen.set(d.id, d);
        return [...list, ...[...acked.values()].filter((d) => !list.some((l) => l.id === d.id))];
      },
      ack: async (id, signal) => {
        const answer = await deliveries.ack(id, signal);
        const delivery = seen.get(id);
        if (delivery !== undefined) acked.set(id, delivery);
        return answer;
      },
    },
  };
}

describe('the delivery simulation catches broken rules', () => {
  it('a client that forgets which deliveries it handled handles one twice', async () => {
    const caught = await firstCaught({ wrapStorage: forgetfulInbox }, 'handled-twice');
    expect(caught).toBeDefined();
  }, 120_000);

  it('a server that completes at the first ack completes early and loses deliveries', async () => {
    const caught = await firstCaught(
      { backend: (setup) => completesEarly(memoryDeliveryBackend(setup), new Map()) },
      'completed-early',
    );
    expect(caught?.rules).toContain('lost');
  }, 120_000);

  it('a client that never acknowledges leaves handled deliveries unacknowledged', async () => {
    const caught = await firstCaught({ wrapTransport: swallowAcks }, 'unacknowledged');
    expect(caught).toBeDefined();
  }, 120_000);

  it('the client withstands a transport that offers acknowledged deliveries again', async () => {
    const result = await simulateDeliveries({
      seed: SEEDS[0] as number,
      chaosMs: CHAOS_MS,
      wrapTransport: redeliverAfterAck,
    });
    expect(result.violations).toEqual([]);
    expect(result.counters.get('dup.offered-after-handled')).toBeGreaterThan(0);
  }, 120_000);
});
