import { compareHlc } from '../../clock/hlc.js';
import type { PullRequest, PullResponse } from '../../protocol/types.js';
import { HLC_KEY, OUTBOX_PREFIX, RESET_PREFIX, userNamespace } from '../../replica/keys.js';
import type { StorageWrite } from '../../storage/types.js';

/** Where a device's invariant checks report (the run's history). */
export interface InvariantSink {
  violation: (inv: 'INV-5' | 'INV-8', message: string) => void;
  /** The run's anti-vacuity counters. */
  counters: { add(name: string): void };
}

/**
 * The checks a device runs while the simulation goes on, over all its lives (client objects):
 * INV-8 on every storage write (its clock never goes back) and INV-5 on every pull request
 * (its checkpoints never go back without a reset).
 *
 * What counts as "used before" is what the device's disk holds or its running client issued: a
 * write interrupted by a crash may be lost (a real storage can tear it), and then neither its
 * HLC nor its checkpoint was ever used, so a later life may use them again. Memory storage never
 * loses an issued write, so there every issued write counts, as before.
 */
export class DeviceInvariants {
  readonly #id: string;
  readonly #sink: InvariantSink;
  readonly #compareCheckpoints: ((a: string, b: string) => number) | undefined;
  /** Checkpoint last asked for, per `user|scope`. */
  readonly #checkpoints = new Map<string, string | null>();
  /**
   * Scopes pulled from `null` (told to reset, or started over by the client itself) whose pull
   * has not reached its last page yet: a client that crashes meanwhile starts that pull over
   * from `null` (the reset is persisted), which is not a checkpoint going back.
   */
  readonly #resetsOpen = new Set<string>();
  /**
   * Resets (`user|scope`) persisted on the device's disk (`z/<scope>` durable): a client that
   * starts finds them and starts them over from `null`. A reset whose last page was answered
   * stays open until the write of that page (which deletes the marker) is durable: a crash
   * before that (a file storage's I/O takes time) starts it over.
   */
  readonly #resetsOnDisk = new Set<string>();
  /** Open resets on disk whose last page was answered, until that page's write is durable. */
  readonly #lastPageAnswered = new Set<string>();
  /** The highest HLC of a write that became durable (any namespace, any life). */
  #durableHlc = '';
  /** The highest HLC the running life issued a write with (durable or not yet). */
  #lifeHlc = '';
  #hlcReported = false;
  readonly #seenMutations = new Set<string>();

  constructor(options: {
    id: string;
    sink: InvariantSink;
    compareCheckpoints: ((a: string, b: string) => number) | undefined;
  }) {
    this.#id = options.id;
    this.#sink = options.sink;
    this.#compareCheckpoints = options.compareCheckpoints;
  }

  /** A new life starts: what its predecessor issued but never made durable is forgotten. */
  lifeStarted(): void {
    this.#lifeHlc = '';
  }

  /**
   * INV-8, checked when a write is issued: the device's clock state, as persisted with its
   * writes, never goes back: not across a crash and restart, a tab handover, a backwards jump
   * of the wall clock or a switch of user.
   */
  writeIssued(namespace: string, ops: readonly StorageWrite[]): void {
    for (const op of ops) {
      if (op.type !== 'set') continue;
      const used = this.#usedHlc();
      // A new outbox entry is a new local write: its HLC must beat everything before it.
      if (op.key.startsWith(OUTBOX_PREFIX)) {
        const mutation = (op.value as { mutation?: { id?: unknown; hlc?: unknown } } | null)
          ?.mutation;
        if (typeof mutation?.id !== 'string' || typeof mutation.hlc !== 'string') continue;
        if (this.#seenMutations.has(mutation.id)) continue;
        this.#seenMutations.add(mutation.id);
        if (compareHlc(mutation.hlc, used) <= 0) {
          this.#clockWentBack(
            `${this.#id} stamped a new write ${mutation.id} with HLC ${mutation.hlc}, not after ${used} (clock went back)`,
          );
        }
        if (compareHlc(mutation.hlc, this.#lifeHlc) > 0) this.#lifeHlc = mutation.hlc;
        continue;
      }
      if (op.key !== HLC_KEY || typeof op.value !== 'string') continue;
      if (compareHlc(op.value, used) < 0) {
        this.#clockWentBack(
          `${this.#id} persisted HLC ${op.value} in ${namespace} after ${used} (clock went back)`,
        );
      } else {
        this.#lifeHlc = op.value;
      }
    }
  }

  /**
   * The write (checked by {@link writeIssued}) is durable: its HLCs are used for good, and the
   * resets it starts or ends are on disk.
   */
  writeDurable(namespace: string, ops: readonly StorageWrite[]): void {
    for (const hlc of hlcsOf(ops)) {
      if (compareHlc(hlc, this.#durableHlc) > 0) this.#durableHlc = hlc;
    }
    if (!namespace.startsWith(USER_NAMESPACE)) return;
    const userId = namespace.slice(USER_NAMESPACE.length);
    for (const op of ops) {
      if (!op.key.startsWith(RESET_PREFIX)) continue;
      const key = `${userId}|${op.key.slice(RESET_PREFIX.length)}`;
      if (op.type === 'set') {
        this.#resetsOnDisk.add(key);
      } else {
        this.#resetsOnDisk.delete(key);
        // Its last page durable: a pass still open here had been answered to its end.
        if (this.#lastPageAnswered.has(key)) this.#resetsOpen.delete(key);
        this.#lastPageAnswered.delete(key);
      }
    }
  }

  /** The namespace was cleared for good: no reset of its user is on disk any more. */
  clearDurable(namespace: string): void {
    if (!namespace.startsWith(USER_NAMESPACE)) return;
    const prefix = `${namespace.slice(USER_NAMESPACE.length)}|`;
    for (const key of [...this.#resetsOnDisk]) {
      if (key.startsWith(prefix)) this.#resetsOnDisk.delete(key);
    }
  }

  /** INV-5, checked on every pull request of the device's running client. */
  pullRequested(userId: string | null, request: PullRequest): void {
    const compare = this.#compareCheckpoints;
    const key = `${userId}|${request.scope}`;
    const previous = this.#checkpoints.get(key);
    const restart = request.checkpoint === null && this.#resetsOpen.has(key);
    if (compare !== undefined && previous != null && !restart) {
      if (request.checkpoint === null || compare(request.checkpoint, previous) < 0) {
        this.#sink.violation(
          'INV-5',
          `${this.#id} pulled ${request.scope} from checkpoint ${String(request.checkpoint)} after ${previous} without a reset`,
        );
      }
    }
    if (request.checkpoint !== null) {
      this.#checkpoints.set(key, request.checkpoint);
    } else {
      // A pull from null starts a pass over the scope from its beginning: its checkpoints follow
      // each other, not those of an earlier pass that never reached its last page (a reset the
      // client starts over after a crash, having lost which records it had seen).
      if (restart && previous != null) this.#sink.counters.add('path.reset-restart');
      this.#checkpoints.delete(key);
      this.#resetsOpen.add(key);
      this.#lastPageAnswered.delete(key);
    }
  }

  /** A pull answer reached the running client; `true` when it asked for a reset. */
  pullAnswered(userId: string | null, request: PullRequest, response: PullResponse): boolean {
    const key = `${userId}|${request.scope}`;
    if (response.resetRequired) {
      this.#checkpoints.clear();
      this.#resetsOpen.add(key);
      return true;
    }
    if (!response.hasMore) {
      // A reset on disk ends when its last page's write is durable (see `writeDurable`).
      if (this.#resetsOnDisk.has(key) && this.#resetsOpen.has(key)) this.#lastPageAnswered.add(key);
      else this.#resetsOpen.delete(key);
    }
    return false;
  }

  #usedHlc(): string {
    return compareHlc(this.#lifeHlc, this.#durableHlc) > 0 ? this.#lifeHlc : this.#durableHlc;
  }

  #clockWentBack(message: string): void {
    if (this.#hlcReported) return;
    this.#hlcReported = true;
    this.#sink.violation('INV-8', message);
  }
}

/** The prefix of every user's namespace (`userNamespace` of an empty id). */
const USER_NAMESPACE = userNamespace('');

/** The HLCs a batch persists: new outbox entries' and `m/hlc`. */
function hlcsOf(ops: readonly StorageWrite[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (op.type !== 'set') continue;
    if (op.key.startsWith(OUTBOX_PREFIX)) {
      const hlc = (op.value as { mutation?: { hlc?: unknown } } | null)?.mutation?.hlc;
      if (typeof hlc === 'string') out.push(hlc);
    } else if (op.key === HLC_KEY && typeof op.value === 'string') {
      out.push(op.value);
    }
  }
  return out;
}
