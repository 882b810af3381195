/**
 * Who takes part in a delivery run and what they do during its chaos phase: sends of every
 * target kind and of short and long TTLs, crashes (preferably mid-handler), one device
 * abandoned (its session goes stale), one revoked by another device of its user, one that
 * signs in again on the same installation (its old session is replaced), one that appears halfway, and rogue acknowledgements from sessions that do not receive the delivery,
 * which must be refused and change nothing.
 *
 * @module
 */

import type { TargetSpec } from '../../../deliveries/targets.js';
import { isSyncError } from '../../../errors/sync-error.js';
import type { SimCounters } from '../counters.js';
import type { SimScheduler } from '../scheduler.js';
import type { SimRandom } from '../sim-random.js';
import type { DeliveryBackend } from './backend.js';
import type { DeliveryModel, DeliveryRule } from './model.js';
import { type DeliveryDevice, type HandlerBehaviour, REFUSED_KIND } from './session-device.js';

/** The shared scope whose members are both users. */
export const SHARED_SCOPE = 'workspace:sim';

/** One device of the roster. */
export interface RosterEntry {
  id: string;
  user: string;
  role: 'regular' | 'abandoned' | 'revoked' | 'later' | 'relogin';
  maxSkewMs: number;
  behaviour: HandlerBehaviour;
}

const REGULAR: HandlerBehaviour = { failRate: 0.08, maxWorkMs: 3000 };

/** Seven sessions of user `u1` and two of `u2`. */
export const ROSTER: readonly RosterEntry[] = [
  { id: 'u1a', user: 'u1', role: 'regular', maxSkewMs: 0, behaviour: REGULAR },
  { id: 'u1b', user: 'u1', role: 'regular', maxSkewMs: 90_000, behaviour: REGULAR },
  { id: 'u1c', user: 'u1', role: 'relogin', maxSkewMs: 5_000, behaviour: REGULAR },
  { id: 'u1d', user: 'u1', role: 'abandoned', maxSkewMs: 0, behaviour: REGULAR },
  { id: 'u1r', user: 'u1', role: 'revoked', maxSkewMs: 0, behaviour: REGULAR },
  { id: 'u1e', user: 'u1', role: 'later', maxSkewMs: 5_000, behaviour: REGULAR },
  { id: 'u2f', user: 'u2', role: 'regular', maxSkewMs: 90_000, behaviour: REGULAR },
  { id: 'u2g', user: 'u2', role: 'regular', maxSkewMs: 0, behaviour: REGULAR },
];

/** Schedules the chaos phase's events on `scheduler`. */
export function deliveryWorkload(w: {
  scheduler: SimScheduler;
  random: SimRandom;
  devices: readonly DeliveryDevice[];
  model: DeliveryModel;
  backend: DeliveryBackend;
  counters: SimCounters;
  chaosMs: number;
  trace: (line: string) => void;
  violate: (rule: DeliveryRule, message: string) => void;
}): void {
  const { scheduler, random, devices, chaosMs } = w;
  const role = (device: DeliveryDevice) =>
    (ROSTER.find((r) => r.id === device.id) as RosterEntry).role;
  const at = (low: number, high: number) => Math.round(random.range(low, high) * chaosMs);
  const running = () => devices.filter((d) => d.client !== undefined);
  /** Repeats `step` at exponential gaps of mean `meanMs` until the chaos phase ends. */
  const every = (meanMs: number, step: () => void) =>
    repeatUntil({ scheduler, random, endMs: chaosMs, meanMs, step });

  for (const device of devices) {
    if (role(device) === 'later') scheduler.schedule(at(0.3, 0.7), () => device.start());
    else scheduler.schedule(random.int(2000), () => device.start());
    if (role(device) === 'abandoned') scheduler.schedule(at(0.1, 0.4), () => device.abandon());
    if (role(device) === 'relogin') scheduler.schedule(at(0.4, 0.8), () => device.relogin());
    if (role(device) === 'revoked') {
      scheduler.schedule(at(0.2, 0.6), () => revoke(device));
    }
  }

  const revoke = (victim: DeliveryDevice) => {
    const by = running().find((d) => d.auth.userId === victim.auth.userId && d !== victim);
    if (by?.client === undefined) {
      scheduler.schedule(3000, () => revoke(victim));
      return;
    }
    w.trace(`revoke ${victim.id} by ${by.id}`);
    by.client.sessions.revoke(victim.auth.sessionId).catch(() => {
      if (!w.model.revoked(victim.auth.sessionId)) scheduler.schedule(3000, () => revoke(victim));
    });
  };

  every(2500, () => {
    const senders = running().filter(
      (d) => role(d) !== 'revoked' || !w.model.revoked(d.auth.sessionId),
    );
    if (senders.length === 0) return;
    const sender = random.pick(senders);
    const client = sender.client;
    if (client === undefined) return;
    const target = pickTarget(random, sender, devices, w.model);
    const kind = random.chance(0.1) ? REFUSED_KIND : 'item';
    // Nobody acknowledges a refused kind: it lives until its TTL, at most 10 minutes.
    const ttl =
      kind === REFUSED_KIND
        ? 60 + random.int(540)
        : random.chance(0.65)
          ? 900
          : 15 + random.int(135);
    w.trace(`send ${sender.id} ${target.type} ttl ${ttl} ${kind}`);
    client.deliveries
      .send({ kind, payload: { from: sender.id }, target, ttl })
      .catch((error: unknown) => w.trace(`send failed ${sender.id}: ${String(error)}`));
  });

  every(8000, () => {
    const candidates = running();
    if (candidates.length === 0) return;
    const busy = candidates.filter((d) => d.inHandler || d.inTransfer);
    const victim =
      busy.length > 0 && random.chance(0.6) ? random.pick(busy) : random.pick(candidates);
    victim.crash();
  });

  every(5000, () => {
    const deliveries = [...w.model.deliveries.values()];
    if (deliveries.length === 0) return;
    const d = random.pick(deliveries);
    const outsiders = devices.filter(
      (device) =>
        w.model.known(device.auth.sessionId) &&
        !w.model.revoked(device.auth.sessionId) &&
        !w.model.receives(d, device.auth),
    );
    if (outsiders.length === 0) return;
    const rogue = random.pick(outsiders);
    void scheduler.track(
      (async () => {
        const before = JSON.stringify(await w.backend.audit(d.id, d.senderUserId));
        w.model.serverCalled(); // the audit settles the server's deliveries at now
        let answer = 'accepted';
        try {
          await w.backend.ack(rogue.auth, d.id);
        } catch (error) {
          answer = isSyncError(error) && error.status === 404 ? '' : String(error);
        }
        w.model.serverCalled();
        if (answer !== '') {
          w.violate(
            'non-receiver-ack',
            `${rogue.auth.sessionId}, not a receiver of ${d.id}, acknowledged it: ${answer}, not 404`,
          );
        }
        const after = JSON.stringify(await w.backend.audit(d.id, d.senderUserId));
        if (after !== before) {
          w.violate(
            'non-receiver-ack',
            `${rogue.auth.sessionId}'s refused ack changed ${d.id}: ${before} → ${after}`,
          );
        }
        w.counters.add('ack.non-receiver-refused');
      })(),
    );
  });
}

/** A target of each kind: every other session, a few of the sender's own, or a shared scope. */
export function pickTarget(
  random: SimRandom,
  sender: DeliveryDevice,
  devices: readonly DeliveryDevice[],
  model: DeliveryModel,
): TargetSpec {
  const roll = random.next();
  if (roll < 0.45) return { type: 'otherSessions' };
  if (roll < 0.7) {
    const own = devices.filter(
      (d) => d.auth.userId === sender.auth.userId && model.known(d.auth.sessionId),
    );
    const ids = own.filter(() => random.chance(0.5)).map((d) => d.auth.sessionId);
    return {
      type: 'sessions',
      ids: ids.length > 0 ? ids : [random.pick(own.length > 0 ? own : [sender]).auth.sessionId],
    };
  }
  return { type: 'scopeMembers', scope: SHARED_SCOPE };
}

/** Repeats `step` at exponential gaps of mean `meanMs` until virtual time `endMs`. */
export function repeatUntil(o: {
  scheduler: SimScheduler;
  random: SimRandom;
  endMs: number;
  meanMs: number;
  step: () => void;
}): void {
  const next = () => {
    const gap = Math.ceil(-Math.log(1 - o.random.next()) * o.meanMs);
    if (o.scheduler.now + gap >= o.endMs) return;
    o.scheduler.schedule(gap, () => {
      o.step();
      next();
    });
  };
  next();
}
