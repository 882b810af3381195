import type { ConflictContext, ConflictResolver } from '../../conflict/types.js';
import type { SyncRecord } from '../../protocol/types.js';
import type { ResolverCall, TokenOp, Violation } from './checks.js';
import { SimCounters } from './counters.js';
import type { SimDevice } from './device.js';
import type { SimScheduler } from './scheduler.js';

/** A poison-pill write and whether it settled. */
export interface PoisonOp {
  deviceId: string;
  userId: string;
  recordId: string;
  status: TokenOp['status'];
}

/** A tombstone removed by a purge, and its scope's version when the purge ran. */
export interface PurgedRecord {
  atVersion: number;
  record: SyncRecord;
}

/**
 * The history of one run: what the workload did, what resolvers answered, what was detected on
 * the way, and a rolling hash of every traced event (two runs of one seed must hash equally).
 */
export class RunHistory {
  readonly tokens: TokenOp[] = [];
  readonly poisons: PoisonOp[] = [];
  readonly resolutions: ResolverCall[] = [];
  readonly violations: Violation[] = [];
  readonly purged: PurgedRecord[] = [];
  step = 0;
  /** The run's anti-vacuity counters. */
  readonly counters = new SimCounters();
  #hash = 0x811c9dc5;
  readonly #scheduler: SimScheduler;
  readonly #print: ((line: string) => void) | undefined;

  constructor(scheduler: SimScheduler, print: ((line: string) => void) | undefined) {
    this.#scheduler = scheduler;
    this.#print = print;
  }

  /** Hex digest of everything traced so far. */
  get digest(): string {
    return (this.#hash >>> 0).toString(16).padStart(8, '0');
  }

  /** Adds a line to the history (printed when tracing). */
  trace(line: string): void {
    const text = `t=${this.#scheduler.now} #${this.step} ${line}`;
    let hash = this.#hash;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    this.#hash = hash;
    this.#print?.(text);
  }

  /** Prints a detail line when tracing (built lazily; not part of the digest). */
  detail(make: () => string): void {
    if (this.#print !== undefined)
      this.#print(`t=${this.#scheduler.now} #${this.step}   ${make()}`);
  }

  /** Records a broken invariant at the current step. */
  violate(violation: Violation): void {
    this.violations.push({ ...violation, step: violation.step ?? this.step });
    this.trace(`VIOLATION ${violation.inv} ${violation.message}`);
  }
}

/**
 * Wraps a collection's resolver: a CP5 crash fires inside it, every call is logged for the
 * determinism and LWW checks, and real conflicts are counted per resolver kind.
 */
export function wrapResolver(options: {
  device: SimDevice;
  kind: string;
  resolver: ConflictResolver;
  history: RunHistory;
  counters: SimCounters;
}): ConflictResolver {
  const { device, kind, resolver, history, counters } = options;
  return (context: ConflictContext) => {
    device.onResolve();
    const resolution = resolver(context);
    counters.add(`resolved.${kind}`);
    history.resolutions.push({
      deviceId: device.id,
      kind,
      context: JSON.parse(JSON.stringify(context)) as ConflictContext,
      resolution: JSON.parse(JSON.stringify(resolution)),
      resolver,
    });
    history.trace(
      `resolve ${kind} ${device.id} ${context.collection}/${context.id} -> ${resolution.action}`,
    );
    return resolution;
  };
}
