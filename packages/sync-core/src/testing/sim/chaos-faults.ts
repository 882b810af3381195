import type { SimBackend } from './backend.js';
import type { SimCounters } from './counters.js';
import type { SimDevice } from './device.js';
import type { SimNetwork } from './network.js';
import type { RunHistory } from './run-state.js';
import type { SimScheduler } from './scheduler.js';
import type { SimRandom } from './sim-random.js';
import type { SwarmConfig } from './swarm.js';

/**
 * Places the seed's faults at random moments of the chaos phase: partition episodes per device
 * (half of them noticed by the online flag), server restarts, one backwards clock jump, a
 * tombstone purge (second half, when there is something to purge), a guest sign-in of user3's
 * device as user2, and tab handovers of the tab pair. Every event checks that the chaos is still
 * on: after heal, nothing fires.
 */
export function scheduleFaults(ctx: {
  swarm: SwarmConfig;
  faults: SimRandom;
  scheduler: SimScheduler;
  devices: SimDevice[];
  network: SimNetwork;
  backend: SimBackend;
  history: RunHistory;
  counters: SimCounters;
  chaosMs: number;
  /** Purge on every seed, with a device cut off across it (see `SimulateOptions.purgeBehind`). */
  purgeBehind: boolean;
}): void {
  const { swarm, faults, scheduler, devices, network, backend, history, counters, chaosMs } = ctx;
  const at = () => faults.int(chaosMs);
  devices.forEach((device, i) => {
    for (let k = 0; k < (swarm.partitions[i] ?? 0); k++) {
      const start = at();
      const duration = 1000 + faults.int(30_000);
      const noticed = faults.chance(0.5);
      scheduler.schedule(start, () => {
        if (!network.faultsOn) return;
        network.partition(device.id);
        if (noticed) device.online.set(false);
      });
      scheduler.schedule(start + duration, () => {
        network.heal(device.id);
        device.online.set(true);
      });
    }
  });
  for (let k = 0; k < swarm.serverRestarts; k++) {
    const downMs = 500 + faults.int(5000);
    scheduler.schedule(at(), () => {
      if (network.faultsOn) network.restartServer(downMs, () => backend.restart());
    });
  }
  const jumper = faults.pick(devices);
  const jumpBy = 60_000 + faults.int(240_000);
  scheduler.schedule(at(), () => {
    if (!network.faultsOn) return;
    jumper.clock.setSkew(jumper.clock.skewMs - jumpBy);
    counters.add('fault.skew-jump-back');
    history.trace(`clock of ${jumper.id} jumps back ${jumpBy} ms`);
  });
  const purge = backend.purgeTombstones?.bind(backend);
  // In the second half of the chaos, when there are tombstones to purge and devices behind.
  let purgeAt = Math.floor(chaosMs / 2) + faults.int(Math.ceil(chaosMs / 2));
  if (ctx.purgeBehind && purge !== undefined) {
    // A device cut off from half of the chaos before the purge until after it: writes of
    // the others meanwhile leave tombstones past its checkpoint, so it must start over.
    const behind = faults.pick(devices);
    purgeAt = Math.floor(chaosMs * 0.95);
    scheduler.schedule(Math.floor(chaosMs / 4), () => network.partition(behind.id));
    scheduler.schedule(purgeAt + 2000, () => network.heal(behind.id));
  }
  if ((swarm.purge || ctx.purgeBehind) && purge !== undefined) {
    scheduler.schedule(purgeAt, () => {
      if (!network.faultsOn) return;
      void scheduler.track(
        (async () => {
          const before = await Promise.all(
            ['u1', 'u2', 'u3'].map((u) => backend.records(`user:${u}`)),
          );
          const purged = await purge();
          const after = await Promise.all(
            ['u1', 'u2', 'u3'].map((u) => backend.records(`user:${u}`)),
          );
          const kept = new Set(after.flat().map((r) => `${r.scope}/${r.collection}/${r.id}`));
          for (const list of before) {
            // Every applied write took the scope's next version, so the highest revision in
            // the scope is its version at the purge.
            const atVersion = Math.max(0, ...list.map((r) => r.revision));
            for (const record of list) {
              if (kept.has(`${record.scope}/${record.collection}/${record.id}`)) continue;
              history.purged.push({ atVersion, record });
            }
          }
          counters.add('fault.tombstone-purge');
          history.trace(`purged ${purged} tombstones`);
        })(),
      );
    });
  }
  if (swarm.signSwitch) {
    const device = devices.find((d) => d.homeUser === 'u3') as SimDevice;
    const start = at();
    // After heal the guest drain owns the session; a late sign-back would cut it short.
    scheduler.schedule(start, () => network.faultsOn && device.signIn('u2'));
    scheduler.schedule(start + 5000 + faults.int(25_000), () => {
      if (network.faultsOn) device.signIn(device.homeUser);
    });
  }
  const tabs = devices.find((d) => d.tabs > 1);
  for (let k = 0; tabs !== undefined && k < swarm.tabFlaps; k++) {
    scheduler.schedule(at(), () => {
      if (network.faultsOn) void tabs.flapTab();
    });
  }
}
