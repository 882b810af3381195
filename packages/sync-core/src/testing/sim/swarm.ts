import type { NetworkFaults } from './network.js';
import type { SimRandom } from './sim-random.js';

/**
 * The fault mix of one seed, drawn "swarm" style (each seed tunes its own rates within the
 * ranges of reference §4.5), so that across seeds every fault is seen alone, mixed and absent.
 */
export interface SwarmConfig {
  network: NetworkFaults;
  /** Chance per workload step that a crash is armed on some device. */
  crashRate: number;
  /** Partition episodes per device. */
  partitions: number[];
  /** Server restarts during the chaos phase. */
  serverRestarts: number;
  /** Device clock skew in ms (0 for about 60 % of them, so some devices share a clock). */
  skews: number[];
  /** Whether tombstones are purged once (so clients go through `resetRequired`). */
  purge: boolean;
  /** Whether a device signs in as another user for a while. */
  signSwitch: boolean;
  /** Tab handovers of the tab pair. */
  tabFlaps: number;
}

/** Named intensities: `default` (tier 1), `none` (a fault-free control run), `high` (soak). */
export type FaultLevel = 'default' | 'none' | 'high';

/** Draws the seed's fault mix. */
export function drawSwarm(random: SimRandom, devices: number, level: FaultLevel): SwarmConfig {
  const k = level === 'high' ? 2 : level === 'none' ? 0 : 1;
  const rate = (max: number) => (level === 'none' ? 0 : Math.min(0.5, random.range(0, max) * k));
  return {
    network: {
      drop: rate(0.15),
      responseLost: rate(0.1),
      duplicate: rate(0.05),
      maxDelayMs: level === 'none' ? 20 : random.int(2000),
      serverError: rate(0.05),
      rateLimited: rate(0.03),
      pokeLoss: rate(0.5),
    },
    crashRate: rate(0.02) * devices,
    partitions: Array.from({ length: devices }, () => (level === 'none' ? 0 : random.int(4 * k))),
    serverRestarts: level === 'none' ? 0 : random.int(3 * k),
    skews: Array.from({ length: devices }, () =>
      level !== 'none' && random.chance(0.4) ? Math.round(random.range(-600_000, 600_000)) : 0,
    ),
    purge: level !== 'none' && random.chance(level === 'high' ? 0.6 : 0.3),
    signSwitch: level !== 'none' && random.chance(0.5),
    tabFlaps: level === 'none' ? 0 : random.int(4 * k),
  };
}

/** A short stable hash of a config, printed as `CONFIG=swarm:<hash>`. */
export function configHash(config: SwarmConfig): string {
  const text = JSON.stringify(config);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0').slice(0, 6);
}
