/**
 * The deterministic simulation of session targeting (issue 12): real clients of two users, each
 * on its own durable storage, send deliveries to `otherSessions`, `sessions([...])` and
 * `scopeMembers(scope)` and handle the ones they receive, through a network that drops,
 * duplicates, answers 503 and loses answers, while devices crash mid-handler and restart from
 * their storage, one device is abandoned (its session goes stale), one is revoked, one appears
 * halfway, one signs in again on the same installation (the server replaces its session), a
 * kind no handler accepts lives until its TTL, and virtual time runs
 * past every TTL. Devices also send small assets in a few chunks through `client.assets` (the
 * network corrupts some downloads; crashes cut uploads and downloads, which resume). Every call
 * the server handled feeds the run's {@link DeliveryModel} and {@link AssetChecks}, whose checks
 * run on every call, every handler run and a periodic audit of the server's truth.
 *
 * Run shape: chaos → heal (faults off, crashed devices restarted, settle) → "none lost" check
 * while the long-lived deliveries still live → time runs past every TTL → final audit, and acks
 * of expired deliveries that must change nothing → devices closed, time past the server's grace
 * for unreferenced uploads, sweep: no blob left.
 *
 * @module
 */

import type { SyncClientOptions } from '../../../api/options.js';
import type { AssetStore } from '../../../assets/asset-store.js';
import { createSyncClient } from '../../../client/create-sync-client.js';
import type { Delivery } from '../../../protocol/types.js';
import type { StorageAdapter } from '../../../storage/types.js';
import type { AuthSession, SyncTransport } from '../../../transport/types.js';
import { createRandom } from '../../random.js';
import { SimCounters } from '../counters.js';
import { SIM_EPOCH_MS } from '../device-env.js';
import { SimScheduler } from '../scheduler.js';
import { SimRandom } from '../sim-random.js';
import { AssetChecks } from './asset-checks.js';
import { assetWorkload, SIM_ASSET_CHUNK_BYTES } from './asset-workload.js';
import { type DeliveryBackend, memoryDeliveryBackend } from './backend.js';
import { expiredAcksChangeNothing } from './expired-acks.js';
import { DeliveryNetwork } from './link.js';
import { DeliveryModel, type DeliveryViolation } from './model.js';
import { DeliveryDevice, REFUSED_KIND } from './session-device.js';
import { deliveryWorkload, ROSTER, SHARED_SCOPE } from './workload.js';

/** Options of {@link simulateDeliveries}. */
export interface SimulateDeliveriesOptions {
  /** The seed: the whole run is a function of it. */
  seed: number;
  /**
   * Virtual milliseconds of the chaos phase.
   * @default 300000 (5 min)
   */
  chaosMs?: number;
  /**
   * The server. Receives the run's scheduler, active window and scope members.
   * @default the in-memory server of the testing kit
   */
  backend?: (setup: {
    scheduler: SimScheduler;
    sessionActiveWindowMs: number;
    members: Readonly<Record<string, readonly string[]>>;
    uploadGraceSeconds: number;
  }) => DeliveryBackend | Promise<DeliveryBackend>;
  /**
   * Devices send assets too (where the backend has asset routes).
   * @default true
   */
  assets?: boolean;
  /** Wraps each client life's transport (a test's faulty fake). */
  wrapTransport?: (
    transport: SyncTransport,
    device: { id: string; auth: AuthSession },
  ) => SyncTransport;
  /** Wraps each client life's asset store (a test's faulty fake). */
  wrapAssetStore?: (store: AssetStore, device: { id: string; auth: AuthSession }) => AssetStore;
  /** Wraps each client life's storage (a test's faulty fake). */
  wrapStorage?: (
    storage: StorageAdapter,
    device: { id: string; auth: AuthSession },
  ) => StorageAdapter;
  /**
   * Virtual milliseconds between two audits of every delivery against the server.
   * @default 2000
   */
  auditEveryMs?: number;
  /** Extra client options. */
  clientOptions?: Partial<SyncClientOptions>;
  /**
   * `true` prints every event; a function receives each line.
   * @default false
   */
  trace?: boolean | ((line: string) => void);
}

/** What a delivery run found. */
export interface DeliverySimulationResult {
  /** The seed. */
  seed: number;
  /** `true` when no rule broke. */
  ok: boolean;
  /** Broken rules, in detection order (the first few of each rule). */
  violations: DeliveryViolation[];
  /** Anti-vacuity counters. */
  counters: SimCounters;
  /** Deliveries created, events executed, virtual time used. */
  stats: { deliveries: number; events: number; virtualMs: number };
}

/** Counters every batch of seeds must raise, or the run exercised too little to mean anything. */
export const DELIVERY_REQUIRED_COUNTERS: readonly string[] = [
  'delivery.created',
  'delivery.handled',
  'delivery.completed',
  'delivery.expired',
  'delivery.completed-without-inactive-target',
  'target.otherSessions',
  'target.sessions',
  'target.scopeMembers',
  'crash',
  'crash.during-handler',
  'handler.failed',
  'fault.drop',
  'fault.duplicate',
  'fault.5xx',
  'fault.response-lost.ack',
  'fault.response-lost.send',
  'dup.offered-after-handled',
  'session.revoked',
  'session.replaced',
  'session.later-session-handled',
  'ack.non-receiver-refused',
  'ack.expired-refused',
];

/** Counters every batch of seeds with assets must raise as well. */
export const ASSET_REQUIRED_COUNTERS: readonly string[] = [
  'asset.sent',
  'asset.handed-over',
  'asset.upload-resumed',
  'asset.upload-resumed-after-crash',
  'asset.download-resumed',
  'asset.download-refetched',
  'asset.corruption-recovered',
  'asset.outsider-download-refused',
  'asset.blob-held-while-live',
  'asset.blob-deleted',
  'crash.during-transfer',
  'fault.corrupt-download',
  'fault.response-lost.asset-upload',
];

const ACTIVE_WINDOW_MS = 120_000;
const HEAL_MS = 150_000;
/** How long the server keeps an upload no delivery referenced yet. */
const UPLOAD_GRACE_SECONDS = 600;
const MAX_VIOLATIONS_PER_RULE = 3;

/**
 * Runs one seed of the delivery simulation.
 *
 * @example
 * ```ts
 * import { simulateDeliveries } from '@syncline/sync-core/testing';
 * const result = await simulateDeliveries({ seed: 7 });
 * if (!result.ok) console.log(result.violations);
 * ```
 */
export async function simulateDeliveries(
  options: SimulateDeliveriesOptions,
): Promise<DeliverySimulationResult> {
  const seed = options.seed >>> 0;
  const chaosMs = options.chaosMs ?? 300_000;
  const auditEveryMs = options.auditEveryMs ?? 2_000;
  const scheduler = new SimScheduler();
  const root = new SimRandom(seed, createRandom);
  const counters = new SimCounters();
  const violations: DeliveryViolation[] = [];
  const perRule = new Map<string, number>();
  const print =
    typeof options.trace === 'function'
      ? options.trace
      : options.trace === true
        ? (line: string) => console.log(line)
        : undefined;
  const trace = (line: string) => print?.(`${String(scheduler.now).padStart(8)} ${line}`);
  const members = { [SHARED_SCOPE]: ['u1', 'u2'] };
  const backend = await (options.backend ?? ((setup) => memoryDeliveryBackend(setup)))({
    scheduler,
    sessionActiveWindowMs: ACTIVE_WINDOW_MS,
    members,
    uploadGraceSeconds: UPLOAD_GRACE_SECONDS,
  });
  const assetRoutes = options.assets === false ? undefined : backend.assets;
  const model = new DeliveryModel({
    now: () => SIM_EPOCH_MS + scheduler.now,
    virtualNow: () => scheduler.now,
    activeWindowMs: ACTIVE_WINDOW_MS,
    members,
    counters,
    violate: (violation) => recordViolation(violation),
  });
  function recordViolation(violation: DeliveryViolation): void {
    {
      const seen = (perRule.get(violation.rule) ?? 0) + 1;
      perRule.set(violation.rule, seen);
      trace(`VIOLATION ${violation.rule}: ${violation.message}`);
      if (seen <= MAX_VIOLATIONS_PER_RULE) violations.push(violation);
    }
  }
  const checks = new AssetChecks({
    model,
    counters,
    now: () => SIM_EPOCH_MS + scheduler.now,
    violate: (rule, message) => recordViolation({ rule, message, at: scheduler.now }),
  });
  const random = root.fork('faults');
  const network = new DeliveryNetwork({
    scheduler,
    random: root.fork('network'),
    counters,
    backend,
    assets: assetRoutes,
    observer: {
      handled: (call) => {
        trace(
          `server ${call.kind} ${call.auth.sessionId} ${call.outcome.ok ? 'ok' : String(call.outcome.error)}`,
        );
        model.handled(call);
        checks.handled(call);
      },
      issued: (call) => checks.issued(call),
      answered: (call, value) => checks.answered(call, value),
      corrupted: (call) => checks.corrupted(call),
      pendingDelivered: (_deviceId, auth, list) => {
        for (const delivery of list) {
          if (model.handledCount(auth.sessionId, delivery.id) > 0)
            counters.add('dup.offered-after-handled');
        }
      },
    },
    faults: {
      drop: random.range(0.02, 0.1),
      responseLost: random.range(0.05, 0.2),
      duplicate: random.range(0.02, 0.1),
      serverError: random.range(0, 0.05),
      eventLoss: random.range(0, 0.3),
      maxDelayMs: random.pick([50, 300, 2000]),
      corrupt: random.range(0.02, 0.1),
    },
    timeoutMs: 10_000,
    trace,
  });
  const world = {
    scheduler,
    network,
    counters,
    createClient: createSyncClient,
    clientOptions: {
      heartbeatIntervalMs: 30_000,
      pullIntervalMs: 15_000,
      requestTimeoutMs: 10_000,
      retry: { baseDelayMs: 500, maxDelayMs: 20_000 },
      assetChunkBytes: SIM_ASSET_CHUNK_BYTES,
      ...options.clientOptions,
    },
    wrapTransport: options.wrapTransport ?? ((t: SyncTransport) => t),
    wrapStorage: options.wrapStorage ?? ((s: StorageAdapter) => s),
    wrapAssetStore: options.wrapAssetStore ?? ((s: AssetStore) => s),
    handlerStarted: (auth: AuthSession, delivery: { id: string }) => {
      trace(`handler start ${auth.sessionId} ${delivery.id}`);
      model.handlerStarted(auth, delivery as never);
    },
    assetHandedOver: (auth: AuthSession, delivery: Delivery, bytes: Uint8Array | undefined) =>
      checks.handedOver(auth, delivery, bytes),
    handlerFinished: (auth: AuthSession, delivery: { id: string }) => {
      trace(`handler done ${auth.sessionId} ${delivery.id}`);
      model.handlerFinished(auth, delivery as never);
    },
    trace,
  };
  const devices = ROSTER.map(
    (spec) =>
      new DeliveryDevice({
        id: spec.id,
        userId: spec.user,
        skewMs: Math.round(root.range(-spec.maxSkewMs, spec.maxSkewMs)),
        behaviour: spec.behaviour,
        world,
        random: root.fork(`device:${spec.id}`),
      }),
  );

  const audit = async () => {
    await scheduler.track(backend.settle?.() ?? Promise.resolve());
    for (const d of model.deliveries.values()) {
      if (d.complete || d.expired) {
        // Settled for good: one last look now and then is enough.
        if (scheduler.now % (auditEveryMs * 10) >= auditEveryMs) continue;
      }
      const status = await scheduler.track(backend.audit(d.id, d.senderUserId));
      model.audit(d, status);
      if (assetRoutes !== undefined) await scheduler.track(checks.audit(assetRoutes, d, status));
    }
  };
  let auditing = true;
  const auditLoop = () => {
    if (!auditing) return;
    void scheduler.track(audit());
    scheduler.schedule(auditEveryMs, auditLoop);
  };
  scheduler.schedule(auditEveryMs, auditLoop);

  deliveryWorkload({
    scheduler,
    random: root.fork('workload'),
    devices,
    model,
    backend,
    counters,
    chaosMs,
    trace,
    violate: (rule, message) => recordViolation({ rule, message, at: scheduler.now }),
  });
  if (assetRoutes !== undefined) {
    assetWorkload({
      scheduler,
      random: root.fork('assets'),
      devices,
      model,
      checks,
      backend: assetRoutes,
      counters,
      chaosMs,
      trace,
      violate: (rule, message) => recordViolation({ rule, message, at: scheduler.now }),
    });
  }
  await scheduler.run({ until: chaosMs });

  // Heal: no more faults, every crashed device back, time to settle.
  network.faultsOn = false;
  for (const device of devices)
    if (device.client === undefined && !device.abandoned && device.startedOnce) {
      device.restartNow();
    }
  await scheduler.run({ until: chaosMs + HEAL_MS });
  await audit();
  for (const d of model.deliveries.values()) {
    model.checkNoneLost(d, d.kind === REFUSED_KIND ? 'offered' : 'handled');
  }

  // Time runs past every TTL; devices keep heartbeating.
  const lastExpiry = Math.max(
    0,
    ...[...model.deliveries.values()].map((d) => d.expiresAt - SIM_EPOCH_MS),
  );
  await scheduler.run({ until: Math.max(scheduler.now, lastExpiry) + 5_000 });
  auditing = false;
  await backend.sweep();
  await audit();
  for (const d of model.deliveries.values()) {
    const status = await backend.audit(d.id, d.senderUserId);
    if (status !== undefined && !status.complete && !status.expired) {
      violations.push({
        rule: 'expiry',
        message: `${d.id} neither complete nor expired after its TTL`,
        at: scheduler.now,
      });
    }
  }
  await expiredAcksChangeNothing(backend, model, devices, counters, (v) =>
    violations.push({ ...v, at: scheduler.now }),
  );
  for (const device of devices) device.abandon();
  if (assetRoutes !== undefined) {
    // Uploads no delivery references (a late duplicate chunk) go after the server's grace.
    await scheduler.run({ until: scheduler.now + UPLOAD_GRACE_SECONDS * 1000 + 1000 });
    await backend.sweep();
    await checks.final(assetRoutes);
  }
  return {
    seed,
    ok: violations.length === 0,
    violations,
    counters,
    stats: {
      deliveries: model.deliveries.size,
      events: scheduler.executed,
      virtualMs: scheduler.now,
    },
  };
}
