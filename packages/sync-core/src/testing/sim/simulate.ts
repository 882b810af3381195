/**
 * The deterministic simulator (issue 4; reference §4.1): real syncline clients, each on its own
 * durable memory storage, talk through a faulty simulated network to a server (the in-memory
 * protocol server, or the SQL store on PGlite), all driven by one seeded PRNG and one event
 * queue over virtual time. No real timer, clock or `Math.random` takes part: the same seed
 * gives the same history, byte for byte (the run's digest).
 *
 * Run shape: chaos (workload + faults) → heal (faults off, partitions healed, crashed devices
 * restarted, clocks back to 0 skew, guest sessions drained) → quiescence (bounded virtual time;
 * not reaching it is a liveness failure) → idle (5 virtual minutes of traffic counting) → check.
 *
 * Invariants (reference §4.2, adapted to globally unique mutation ids with stored outcomes and
 * per-record order, DESIGN §3):
 * - INV-1 no lost write: every increment/append whose write resolved is on the server at the end.
 * - INV-2 no duplicate application: every mutation id is applied at most once (server log); an
 *   id answered `applied`/`rejected` gets that same answer whenever re-sent (stored outcome);
 *   no token appears twice; each counter's `n` equals its number of tokens.
 * - INV-3 per-record order: a device's tokens appear in write order; a client never conflicts
 *   with its own earlier write (in-flight rule + rebasing of `baseRevision`).
 * - INV-4 convergence: every device's replica equals the server's records of its user.
 * - INV-5 checkpoints: a device never pulls from an older checkpoint than before, unless the
 *   server told it to reset (checked on every pull); skipped rows show as INV-4. A pull from
 *   `null` starts a new pass: a reset that a crash interrupted starts over from `null` (the
 *   client lost which records it had seen), and that pass is checked on its own. A reset on
 *   disk counts as interrupted until the write of its last page is durable.
 * - INV-7 no resurrection / blind overwrite: replaying the server log, every applied mutation's
 *   `baseRevision` equals the record's revision then (tombstones included, purges honoured).
 * - INV-8 clock discipline: each device's writes carry strictly increasing HLCs in write order
 *   (across crashes and a backwards clock jump), HLCs are unique and name their client;
 *   resolvers are deterministic (re-run) and `lww` keeps the later HLC.
 * - INV-11 no poison-pill stall: rejected writes end in the dead letters and the rest drains.
 * - INV-12 liveness: quiescence (everything synced, no parked conflict, replicas equal the
 *   server) within the bound.
 * - INV-13 bounded idle traffic: no push and few pulls in 5 quiet minutes.
 * - INV-14 integrity: no record of another user on a device or in a scope; `Object.prototype`
 *   gains no key; replica objects have plain prototypes.
 * Not covered: INV-6 (per-observation session guarantees) and INV-9/CP6 (deliveries: the
 * workload sends none).
 *
 * Devices: six sessions over three users. user1 has a tab pair (two client objects on one
 * storage, so one client id and one outbox) and one more device; user2 has two devices; user3
 * has one, which signs in as user2 for a while in half of the seeds (its guest outbox is drained
 * at heal by signing in as user2 again). The tab pair never runs two live clients at once: the
 * engine has no cross-tab coordination (no leader election, no change broadcast between two
 * clients on one store), so two live clients would each keep their own in-memory outbox of the
 * same storage; the pair is modelled as leader handover ("tab flap": one tab stops, the other
 * starts on the same storage).
 *
 * Crash points (CP1–CP5 of reference §4.1): before the outbox write of a local write is
 * applied, right after it, after the server applied a push (answer not delivered), after the
 * first storage write that follows a pull page (mid-pull), and inside a conflict resolver. A
 * crash kills the client object's life (timers, storage, transport, listeners) and a new
 * client starts on the same storage after 1–10 s.
 *
 * @module
 */

import type { SyncClient } from '../../api/client.js';
import type { SyncClientOptions } from '../../api/options.js';
import { createSyncClient } from '../../client/create-sync-client.js';
import type { ConflictResolver } from '../../conflict/types.js';
import type { StorageAdapter } from '../../storage/types.js';
import { createRandom } from '../random.js';
import { memoryBackend, type SimBackend } from './backend.js';
import { scheduleFaults } from './chaos-faults.js';
import type { Violation } from './checks.js';
import { checkConvergence } from './checks.js';
import type { SimCounters } from './counters.js';
import { type ClientFactory, CRASH_POINTS, SimDevice, type SimStorageLife } from './device.js';
import { execute } from './executor.js';
import { finalChecks, oracleOf, replicaOf } from './final-checks.js';
import { SimNetwork } from './network.js';
import { RunHistory, wrapResolver } from './run-state.js';
import { SimScheduler } from './scheduler.js';
import { SimRandom } from './sim-random.js';
import { configHash, drawSwarm, type FaultLevel } from './swarm.js';
import { nextOp, workloadResolvers } from './workload.js';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The seed: the whole run is a function of it. */
  seed: number;
  /**
   * Workload operations in the chaos phase.
   * @default 300
   */
  ops?: number;
  /**
   * Fault intensity: `default` (reference §4.5 ranges), `none` (control run), `high` (soak).
   * @default 'default'
   */
  faults?: FaultLevel;
  /**
   * The server. Receives the run's scheduler (its clock and queue). `transportBackend(...)` runs
   * the simulation against any `SyncTransport` (its options state every rule the simulator
   * relies on); `@syncline/server`'s tiers run its handler over the SQL store on PGlite, in
   * process and through `restTransport` over loopback HTTP, this way (`packages/server/test/sim`).
   * @default the in-memory protocol server (`memoryBackend`)
   */
  backend?: (scheduler: SimScheduler) => SimBackend | Promise<SimBackend>;
  /**
   * Makes each client; apps pass their own wiring of `createSyncClient`.
   * @default createSyncClient
   */
  createClient?: ClientFactory;
  /**
   * Replaces the resolver of the free-form collections (`notes`, `tags`, `drafts`, `tasks`) to
   * run the simulation against an app's own resolvers.
   * @default lww, serverWins, clientWins, manual
   */
  resolvers?: Partial<Record<'notes' | 'tags' | 'drafts' | 'tasks', ConflictResolver>>;
  /**
   * Purge tombstones on every seed (not only in the seeds whose fault mix draws it), with one
   * device cut off from before the purge until after it, so that it pulls from behind the purge
   * horizon and must start over (`resetRequired`). Needs a backend that can purge.
   * @default false
   */
  purgeBehind?: boolean;
  /**
   * Opens a device's durable storage; called at every start of a client (a restarted process
   * reads its disk again), e.g. `fileStorage({ directory })` of `@syncline/sync-core/node` in a
   * directory per device. `life.crash()` kills the device's running client at once (a storage
   * that injects crashes into its own I/O calls it while `life.canCrash`, read in the same
   * synchronous step, then never settles the interrupted call); the device restarts 1–10
   * virtual s later. `life.signal` aborts when that
   * client's life ends: from then on the storage must not touch the disk for it (a crashed
   * process's I/O stops). Every storage call is waited for before virtual time moves on.
   * @default one memory storage per device, kept across crashes
   */
  storage?: (deviceId: string, life: SimStorageLife) => StorageAdapter;
  /** Extra client options (timeouts, intervals, backoff). */
  clientOptions?: Partial<SyncClientOptions>;
  /**
   * `true` prints every event to the console; a function receives each line.
   * @default false
   */
  trace?: boolean | ((line: string) => void);
  /**
   * Virtual time allowed from heal to quiescence before it counts as a liveness failure.
   * @default 2_000_000 (2,000 virtual seconds)
   */
  quiescenceBoundMs?: number;
}

/** What a run found. */
export interface SimulationResult {
  /** The seed. */
  seed: number;
  /** `true` when no invariant broke. */
  ok: boolean;
  /** Broken invariants, in detection order. */
  violations: Violation[];
  /** Anti-vacuity counters of the run. */
  counters: SimCounters;
  /** Hash of the seed's fault mix (`CONFIG=swarm:<hash>`). */
  config: string;
  /** Digest of the whole event history: equal for two runs of one seed. */
  digest: string;
  /** Operations run, events executed, virtual time used, and when quiescence was reached. */
  stats: { ops: number; events: number; virtualMs: number; quiescedAfterMs: number | null };
}

const DEVICE_SPECS = [
  { id: 'u1ab', user: 'u1', tabs: 2 },
  { id: 'u1c', user: 'u1', tabs: 1 },
  { id: 'u2a', user: 'u2', tabs: 1 },
  { id: 'u2b', user: 'u2', tabs: 1 },
  { id: 'u3a', user: 'u3', tabs: 1 },
] as const;
/** Six sessions: the tab pair counts twice when picking who acts. */
const SESSION_SLOTS = ['u1ab', 'u1ab', 'u1c', 'u2a', 'u2b', 'u3a'] as const;
const USERS = ['u1', 'u2', 'u3'] as const;
const MEAN_GAP_MS = 300;
const IDLE_MS = 300_000;

/**
 * Runs one seed of the deterministic simulation and checks every invariant.
 *
 * @example
 * ```ts
 * import { simulate } from '@syncline/sync-core/testing';
 * const result = await simulate({ seed: 42 });
 * if (!result.ok) console.log(result.violations);
 * ```
 */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const seed = options.seed >>> 0;
  const opCount = options.ops ?? 300;
  const scheduler = new SimScheduler();
  const root = new SimRandom(seed, createRandom);
  const swarm = drawSwarm(root.fork('swarm'), DEVICE_SPECS.length, options.faults ?? 'default');
  const config = configHash(swarm);
  const print =
    typeof options.trace === 'function'
      ? options.trace
      : options.trace === true
        ? (line: string) => console.log(line)
        : undefined;
  const history = new RunHistory(scheduler, print);
  const counters = history.counters;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
  const backend = await (options.backend ?? ((s) => memoryBackend({ scheduler: s })))(scheduler);
  const network = new SimNetwork({
    scheduler,
    random: root.fork('network'),
    counters,
    faults: swarm.network,
    trace: (line) => history.trace(line),
    onViolation: (message) => history.violate({ inv: 'INV-13', message }),
  });
  const resolverSet = workloadResolvers();
  for (const [name, resolver] of Object.entries(options.resolvers ?? {})) {
    if (resolver !== undefined) resolverSet[name as 'notes'] = { kind: `app:${name}`, resolver };
  }
  let healing = false;
  const world = {
    scheduler,
    network,
    backend,
    counters,
    createClient: options.createClient ?? createSyncClient,
    openStorage: options.storage,
    crashesAllowed: () => !healing,
    clientOptions: { requestTimeoutMs: 10_000, ...options.clientOptions },
    trace: (line: string) => history.trace(line),
    violation: (inv: 'INV-5' | 'INV-8', message: string) => history.violate({ inv, message }),
    resolvers: (device: SimDevice) => {
      const out: Record<string, ConflictResolver> = {};
      for (const [name, { kind, resolver }] of Object.entries(resolverSet)) {
        out[name] = wrapResolver({ device, kind, resolver, history, counters });
      }
      return out;
    },
  };
  const devices = DEVICE_SPECS.map(
    (spec, i) =>
      new SimDevice({
        id: spec.id,
        homeUser: spec.user,
        tabs: spec.tabs,
        skewMs: swarm.skews[i] ?? 0,
        world,
        random: root.fork(`device:${spec.id}`),
      }),
  );
  const byId = new Map(devices.map((d) => [d.id, d]));
  history.trace(`seed ${seed} config ${config} ${JSON.stringify(swarm)}`);

  for (const device of devices) void device.start();
  await scheduler.run({ until: 1000 });

  // Chaos: the workload chain, and faults at random moments of its window.
  // Expected length of the chaos phase: 30 % of the gaps are 0, the rest average MEAN_GAP_MS.
  // Faults are drawn inside it (a fault drawn after the chaos ended would silently not fire).
  const chaosMs = Math.floor(opCount * MEAN_GAP_MS * 0.65);
  const faults = root.fork('faults');
  const work = root.fork('workload');
  let chaosDone = opCount === 0;
  const step = (index: number) => {
    history.step = index;
    const device = byId.get(work.pick(SESSION_SLOTS)) as SimDevice;
    const op = nextOp(work, index);
    if (op.kind === 'poison' && backend.fieldLimit === false) {
      history.trace(`skip poison (the backend has no field limit)`);
    } else if (op.kind === 'race') {
      for (const racer of devices.filter((d) => d.homeUser === device.homeUser))
        execute(racer, op, history);
    } else {
      execute(device, op, history);
    }
    if (faults.chance(swarm.crashRate)) {
      const target = faults.pick(devices);
      const point = faults.pick(CRASH_POINTS);
      if (target.running) {
        target.arm(point);
        history.trace(`arm ${point} on ${target.id}`);
        scheduler.schedule(60_000, () => {
          if (target.armed === point) target.disarm();
        });
      }
    }
    if (index + 1 >= opCount) chaosDone = true;
    else
      scheduler.schedule(work.chance(0.3) ? 0 : work.int(2 * MEAN_GAP_MS), () => step(index + 1));
  };
  if (opCount > 0) scheduler.schedule(0, () => step(0));
  scheduleFaults({
    swarm,
    faults,
    scheduler,
    devices,
    network,
    backend,
    history,
    counters,
    chaosMs,
    purgeBehind: options.purgeBehind ?? false,
  });
  // The app settling parked conflicts: it decides on each mutation id once. A decision is
  // forgotten when its call failed, when its client was gone before the call, and when its
  // client died while the call was saving it (a crash in that storage write): the call never
  // settles, the conflict is still parked on disk, and the app of the next life decides again.
  const manualResolved = new Set<string>();
  /** Decisions told to a client whose call has not settled, with the device and that client. */
  const manualSaving = new Map<string, { device: SimDevice; client: SyncClient }>();
  const manualRandom = root.fork('manual');
  const resolveParked = () => {
    for (const [mutationId, saving] of manualSaving) {
      if (saving.device.client === saving.client) continue;
      history.detail(
        () => `manual decision on ${mutationId} cut off: its life on ${saving.device.id} ended`,
      );
      manualSaving.delete(mutationId);
      manualResolved.delete(mutationId);
    }
    for (const device of devices) {
      const client = device.client;
      if (client === undefined || !device.running) continue;
      for (const conflict of client.conflicts()) {
        if (manualResolved.has(conflict.mutationId)) continue;
        manualResolved.add(conflict.mutationId);
        const keepServer = manualRandom.chance(0.5);
        scheduler.schedule(1000 + manualRandom.int(7000), () => {
          if (device.client !== client) {
            manualResolved.delete(conflict.mutationId);
            return;
          }
          const decision = keepServer
            ? ({ action: 'server' } as const)
            : ({ action: 'write', data: conflict.local } as const);
          manualSaving.set(conflict.mutationId, { device, client });
          client.resolveConflict(conflict.mutationId, decision).then(
            () => {
              manualSaving.delete(conflict.mutationId);
              counters.add('path.manual-resolved');
            },
            () => {
              manualSaving.delete(conflict.mutationId);
              manualResolved.delete(conflict.mutationId);
            },
          );
        });
      }
    }
    scheduler.schedule(2000, resolveParked);
  };
  scheduler.schedule(2000, resolveParked);

  await scheduler.run({ until: Number.POSITIVE_INFINITY, stop: () => chaosDone });
  history.step = opCount;

  // Heal.
  const healAt = scheduler.now;
  history.trace('heal');
  healing = true;
  network.faultsOn = false;
  network.healAll();
  backend.heal?.();
  for (const device of devices) {
    device.online.set(true);
    device.clock.setSkew(0);
    device.disarm();
    if (device.client === undefined) void device.restartNow();
  }
  const bound = options.quiescenceBoundMs ?? 2_000_000;
  const synced = (device: SimDevice, user: string) => {
    const status = device.client?.status;
    return (
      device.running &&
      status !== undefined &&
      status.userId === user &&
      status.state === 'synced' &&
      status.pending === 0 &&
      status.conflicts === 0
    );
  };
  // Guest sessions: sign in as the guest again until its outbox drained, then back home.
  for (const device of devices) {
    for (const guest of device.guestUsers) {
      if (device.userId !== guest) device.signIn(guest);
      await scheduler.run({ until: scheduler.now + 600_000, stop: () => synced(device, guest) });
      device.signIn(device.homeUser);
    }
  }
  for (const device of devices)
    if (device.userId !== device.homeUser) device.signIn(device.homeUser);

  // Quiescence: cheap status test after each event, replica comparison once a virtual second.
  let converged = false;
  const probe = () => {
    if (!devices.every((d) => synced(d, d.homeUser))) {
      scheduler.schedule(1000, probe);
      return;
    }
    void scheduler.track(
      Promise.all(USERS.map((u) => backend.records(`user:${u}`))).then((lists) => {
        const oracles = new Map<string, Map<string, unknown>>(
          USERS.map((u, i) => [u, oracleOf(lists[i] ?? [])]),
        );
        converged = devices.every(
          (d) =>
            synced(d, d.homeUser) &&
            checkConvergence(d.id, replicaOf(d), oracles.get(d.homeUser) as Map<string, unknown>)
              .length === 0,
        );
        if (!converged) scheduler.schedule(1000, probe);
      }),
    );
  };
  scheduler.schedule(0, probe);
  await scheduler.run({ until: healAt + bound, stop: () => converged });
  const quiescedAfterMs = converged ? scheduler.now - healAt : null;
  if (!converged && devices.every((d) => synced(d, d.homeUser))) {
    // Everything is synced and idle, yet some replica differs from the server: not a liveness
    // problem but divergence (a skipped row, a lost page): report the differences.
    for (const device of devices) {
      const oracle = oracleOf(await backend.records(`user:${device.homeUser}`));
      for (const v of checkConvergence(device.id, replicaOf(device), oracle)) history.violate(v);
    }
  } else if (!converged) {
    const stuck = devices
      .filter((d) => !synced(d, d.homeUser))
      .map(
        (d) =>
          `${d.id}: ${d.client === undefined ? 'not running' : JSON.stringify({ ...d.client.status, error: d.client.status.error?.message })}`,
      );
    history.violate({
      inv: 'INV-12',
      message: `no quiescence within ${bound / 1000} virtual s after heal${stuck.length > 0 ? `; ${stuck.join('; ')}` : ' (replicas differ from the server)'}`,
    });
  } else {
    // Idle: a quiet system sends no push and only periodic pulls.
    const pushesBefore = devices.map((d) => network.pushesByDevice.get(d.id) ?? 0);
    const pullsBefore = devices.map((d) => network.pullsByDevice.get(d.id) ?? 0);
    await scheduler.run({ until: scheduler.now + IDLE_MS });
    const interval = options.clientOptions?.pullIntervalMs ?? 30_000;
    devices.forEach((d, i) => {
      const pushes = (network.pushesByDevice.get(d.id) ?? 0) - (pushesBefore[i] ?? 0);
      const pulls = (network.pullsByDevice.get(d.id) ?? 0) - (pullsBefore[i] ?? 0);
      const maxPulls = 2 * (Math.ceil(IDLE_MS / interval) + 2);
      if (pushes > 0 || pulls > maxPulls) {
        history.violate({
          inv: 'INV-13',
          message: `${d.id} sent ${pushes} pushes and ${pulls} pulls in ${IDLE_MS / 1000} idle virtual s (allowed 0 and ${maxPulls})`,
        });
      }
    });
  }

  counters.add('path.dedupe-hit', await backend.dedupeHits());
  for (const list of network.outcomes.values()) {
    if (list.some((o) => o.result.status === 'rejected')) counters.add('path.rejected');
  }
  const violations = [...history.violations];
  if (converged) {
    violations.push(
      ...(
        await finalChecks({
          devices,
          users: USERS,
          network,
          history,
          records: (scope) => backend.records(scope),
          appliedLog: () => backend.appliedLog(),
          prototypeKeys,
        })
      ).map((v) => ({ ...v, step: v.step ?? opCount })),
    );
  }
  for (const user of USERS) {
    const records = await backend.records(`user:${user}`);
    history.trace(
      `final ${user} ${records.map((r) => `${r.collection}/${r.id}@${r.revision}`).join(',')}`,
    );
  }
  return {
    seed,
    ok: violations.length === 0,
    violations,
    counters,
    config,
    digest: history.digest,
    stats: { ops: opCount, events: scheduler.executed, virtualMs: scheduler.now, quiescedAfterMs },
  };
}
