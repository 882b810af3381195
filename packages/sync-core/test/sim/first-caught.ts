/**
 * The canary tests' search: the first seed on which a broken fake trips `rule`, checked to pass
 * without the fake (else the catch proves nothing about the fake).
 */
import { expect } from 'vitest';
import {
  type DeliveryRule,
  type SimulateDeliveriesOptions,
  simulateDeliveries,
} from '../../src/testing/sim/deliveries/index.js';

/** The seeds the canaries search. */
export const SEEDS = [1, 2, 4];
/** Virtual milliseconds of chaos per seed. */
export const CHAOS_MS = 150_000;

/**
 * The first seed of 1, 2, 4 on which `fake` trips `rule`, with every rule it tripped. `base`
 * holds the options of both runs (another server, shorter chaos); `fake` overrides them.
 */
export async function firstCaught(
  fake: Omit<SimulateDeliveriesOptions, 'seed'>,
  rule: DeliveryRule,
  base: Omit<SimulateDeliveriesOptions, 'seed'> = {},
): Promise<{ seed: number; rules: string[] } | undefined> {
  for (const seed of SEEDS) {
    const broken = await simulateDeliveries({ seed, chaosMs: CHAOS_MS, ...base, ...fake });
    const rules = [...new Set(broken.violations.map((v) => v.rule))];
    if (!rules.includes(rule)) continue;
    // The seed must pass without the fake, or the catch proves nothing about the fake.
    const clean = await simulateDeliveries({ seed, chaosMs: CHAOS_MS, ...base });
    expect(clean.violations).toEqual([]);
    return { seed, rules };
  }
  return undefined;
}
