import { SyncError } from '../errors/sync-error.js';
import { hex } from '../text/hex.js';
import { hasLoneSurrogate } from '../text/unicode.js';

/**
 * Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", OPODIS 2014).
 *
 * A timestamp is `(wallTime, counter, nodeId)`, encoded as fixed-width text
 * `WWWWWWWWWWWW:CCCC:nodeId` (12 lowercase hex digits of wall-clock milliseconds, 4 lowercase
 * hex digits of counter, then the node id), so that plain string comparison gives the same
 * order as the tuple. The node id is the client id: two writes with equal `(wallTime, counter)`
 * are ordered by it, which makes last-writer-wins deterministic.
 *
 * @module
 */

/** Largest counter value; one more carries into the wall time (see {@link HybridLogicalClock}). */
const MAX_COUNTER = 0xffff;
/** Largest wall time that fits 12 hex digits (year 10889). */
const MAX_WALL_TIME = 0xffff_ffff_ffff;
const WALL_DIGITS = 12;
const COUNTER_DIGITS = 4;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const NODE_ID_PATTERN = /^[^\u0000-\u001f\u007f]{1,256}$/;
/**
 * A whole timestamp (see the module doc). Lowercase hex only: an uppercase digit would sort
 * differently from the number it encodes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const HLC_PATTERN = /^[0-9a-f]{12}:[0-9a-f]{4}:[^\u0000-\u001f\u007f]{1,256}$/;

/** The decoded parts of an HLC timestamp. */
export interface HlcParts {
  /** Wall-clock milliseconds since the epoch (an integer, 0 ≤ wallTime < 2^48). */
  wallTime: number;
  /** Logical counter within one wall-clock millisecond (0 ≤ counter ≤ 0xffff). */
  counter: number;
  /** The node (client) that issued the timestamp; 1–256 characters, no control characters. */
  nodeId: string;
}

/** Options of {@link HybridLogicalClock}. */
export interface HlcOptions {
  /** This node's id, normally the client id. 1–256 characters, no control characters. */
  nodeId: string;
  /**
   * The physical clock in milliseconds since the epoch. Injected so tests and the simulator
   * control time; pass `Date.now` in production.
   */
  now: () => number;
  /**
   * How far ahead of the local physical clock a received timestamp may pull this clock.
   * A remote wall time beyond `now() + maxDriftMs` is clamped to that bound, so one peer with a
   * wrong clock cannot drag every other clock into the future (and receiving never throws).
   * @default 60000
   */
  maxDriftMs?: number | undefined;
  /**
   * A timestamp this node issued or merged before (e.g. {@link HybridLogicalClock.last}, persisted),
   * so that the clock stays monotonic across restarts even if the physical clock went back.
   * `''` means "no previous state".
   * @default ''
   */
  last?: string;
}

/**
 * A hybrid logical clock: timestamps that follow physical time closely, never go backwards,
 * and respect causality (a timestamp issued after receiving `m` is greater than `m`).
 *
 * Rules, exactly as in the paper, with `l` the wall part, `c` the counter and `pt` = `now()`:
 * - {@link tick} (local event or send): `l' = l; l = max(l', pt); c = (l == l') ? c + 1 : 0`.
 * - {@link receive} of `(l_m, c_m)`: `l = max(l', l_m, pt)`; then `c = max(c, c_m) + 1` if
 *   `l == l' == l_m`, `c + 1` if `l == l'`, `c_m + 1` if `l == l_m`, else `0`.
 *
 * Two deliberate additions:
 * - **Counter overflow.** The counter has 4 hex digits. When it would pass `0xffff`, the clock
 *   advances `l` by 1 ms and resets `c` to 0 instead (a logical millisecond borrowed from the
 *   future; the physical clock catches up). Order is preserved; the clock may then run up to a
 *   few ms ahead of physical time under extreme write rates.
 * - **Drift bound.** A received wall time more than `maxDriftMs` ahead of `now()` is clamped to
 *   `now() + maxDriftMs` (with counter 0) before the rule above. Receiving never throws for a
 *   far-future timestamp; the clock simply does not adopt the part beyond the bound. A received
 *   timestamp within the bound is always dominated by the next {@link tick}.
 *
 * The clock is strictly monotonic even if `now()` jumps backwards: it then keeps its wall part
 * and counts up.
 *
 * @example
 * ```ts
 * const clock = new HybridLogicalClock({ nodeId: clientId, now: Date.now });
 * const hlc = clock.tick();          // stamp a local write
 * clock.receive(serverRecord.hlc);   // merge a timestamp seen from elsewhere
 * ```
 */
export class HybridLogicalClock {
  readonly #now: () => number;
  readonly #maxDriftMs: number;
  /** Validated once by the constructor: formatting runs on every local write. */
  readonly #nodeId: string;
  #wallTime = 0;
  #counter = 0;
  #last = '';

  /**
   * @param options - node id, physical clock, drift bound and persisted state
   * @throws SyncError `invalid` for a bad node id, drift bound or persisted timestamp
   */
  constructor(options: HlcOptions) {
    if (typeof options.nodeId !== 'string' || !NODE_ID_PATTERN.test(options.nodeId)) {
      throw new SyncError(
        'invalid',
        'HLC nodeId must be 1-256 characters without control characters',
      );
    }
    const maxDriftMs = options.maxDriftMs ?? 60_000;
    if (!Number.isFinite(maxDriftMs) || maxDriftMs < 0) {
      throw new SyncError('invalid', 'HLC maxDriftMs must be a finite number >= 0');
    }
    this.#now = options.now;
    this.#maxDriftMs = Math.floor(maxDriftMs);
    this.#nodeId = options.nodeId;
    this.restore(options.last ?? '');
  }

  /**
   * Resumes after a timestamp this node issued or merged earlier (persisted state), so later
   * timestamps order after it even if the physical clock went back since. Unlike
   * {@link receive} it applies no drift bound (the timestamp is the node's own history, and
   * clamping it would let the clock go backwards after a restart) and does not count as an
   * event: the clock's state becomes the later of its own and `persisted`. `''` is ignored.
   *
   * @param persisted - a timestamp from {@link last}, or `''`
   * @throws SyncError `invalid` if `persisted` is neither `''` nor a well-formed timestamp
   */
  restore(persisted: string): void {
    if (persisted === '') return;
    const { wallTime, counter } = parseHlc(persisted);
    // Timestamps order as their texts (fixed-width hex, see compareHlc), so a later one moves
    // the clock; at the same time and counter (another node's id) the state is the same either
    // way. In range: it was parsed.
    if (persisted > this.#last) this.#set(wallTime, counter);
  }

  /** The most recent timestamp issued or merged, or `''` before the first one. Persist it. */
  get last(): string {
    return this.#last;
  }

  /**
   * A new timestamp for a local event (a write, or sending a message). Always greater than every
   * timestamp this clock returned or merged before.
   *
   * @throws SyncError `invalid` only if the wall time would leave the 48-bit range (year 10889)
   */
  tick(): string {
    const previous = this.#wallTime;
    const wallTime = Math.max(previous, physicalTime(this.#now()));
    this.#set(wallTime, wallTime === previous ? this.#counter + 1 : 0);
    return this.#last;
  }

  /**
   * Merges a timestamp seen from another node (a pulled record, a server answer), so that later
   * local timestamps order after it.
   *
   * @param remote - an HLC timestamp
   * @throws SyncError `invalid` if `remote` is not a well-formed HLC timestamp
   */
  receive(remote: string): void {
    let { wallTime: remoteWall, counter: remoteCounter } = parseHlc(remote);
    const physical = physicalTime(this.#now());
    const bound = physical + this.#maxDriftMs;
    if (remoteWall > bound) {
      remoteWall = bound;
      remoteCounter = 0;
    }
    const wallTime = Math.max(this.#wallTime, remoteWall, physical);
    // One more than the largest counter seen at the new wall time (ours, the message's), else 0.
    let counter = -1;
    if (wallTime === this.#wallTime) counter = this.#counter;
    if (wallTime === remoteWall) counter = Math.max(counter, remoteCounter);
    this.#set(wallTime, counter + 1);
  }

  #set(wallTime: number, counter: number): void {
    if (counter > MAX_COUNTER) {
      // Borrow a logical millisecond rather than wrap (which would go backwards) or throw.
      wallTime++;
      counter = 0;
    }
    if (wallTime > MAX_WALL_TIME) {
      throw new SyncError('invalid', 'HLC wall time exceeds the 48-bit range');
    }
    this.#wallTime = wallTime;
    this.#counter = counter;
    this.#last = encodeHlc(wallTime, counter, this.#nodeId);
  }
}

/**
 * A reading of the physical clock (`now()`) as whole milliseconds in the 48-bit range of an
 * HLC's wall time (a UUIDv7's too); a broken clock (NaN, ±Infinity, negative) counts as "no
 * time".
 */
export function physicalTime(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(Math.floor(value), MAX_WALL_TIME);
}

/**
 * Orders two HLC timestamps: negative if `a` is earlier, positive if later, 0 if equal. `''`
 * (no timestamp, e.g. a record the server does not have) sorts before every timestamp.
 * Because the encoding is fixed-width this is plain string comparison; both arguments must be
 * well-formed timestamps or `''`.
 */
export function compareHlc(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * Decodes an HLC timestamp.
 *
 * @throws SyncError `invalid` if `value` is not a well-formed timestamp
 */
export function parseHlc(value: string): HlcParts {
  if (!isHlc(value)) {
    throw new SyncError('invalid', 'Malformed HLC timestamp', { details: { value } });
  }
  return {
    wallTime: Number.parseInt(value.slice(0, WALL_DIGITS), 16),
    counter: Number.parseInt(value.slice(WALL_DIGITS + 1, WALL_DIGITS + COUNTER_DIGITS + 1), 16),
    nodeId: value.slice(WALL_DIGITS + COUNTER_DIGITS + 2),
  };
}

/**
 * Encodes HLC parts as a fixed-width timestamp (`WWWWWWWWWWWW:CCCC:nodeId`).
 *
 * @throws SyncError `invalid` if a part is out of range (see {@link HlcParts})
 */
export function formatHlc(parts: HlcParts): string {
  const { wallTime, counter, nodeId } = parts;
  if (!Number.isInteger(wallTime) || wallTime < 0 || wallTime > MAX_WALL_TIME) {
    throw new SyncError('invalid', 'HLC wall time must be an integer in [0, 2^48)');
  }
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new SyncError('invalid', 'HLC counter must be an integer in [0, 0xffff]');
  }
  if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId)) {
    throw new SyncError(
      'invalid',
      'HLC nodeId must be 1-256 characters without control characters',
    );
  }
  return encodeHlc(wallTime, counter, nodeId);
}

/**
 * `WWWWWWWWWWWW:CCCC:nodeId` for in-range parts: the one encoder of timestamps. Joined into one
 * flat string, since a concatenation would leave a tree of cons strings inside every mutation
 * that keeps the timestamp.
 */
function encodeHlc(wallTime: number, counter: number, nodeId: string): string {
  return [hex(wallTime, WALL_DIGITS), hex(counter, COUNTER_DIGITS), nodeId].join(':');
}

/** `true` if `value` is a well-formed HLC timestamp string. */
export function isHlc(value: unknown): value is string {
  return typeof value === 'string' && HLC_PATTERN.test(value);
}

/**
 * `true` for an HLC as the protocol carries it: well-formed ({@link isHlc}), at most `maxLength`
 * characters, and no lone surrogate in its node part. Internal to the protocol's validation.
 */
export function isHlcText(value: unknown, maxLength: number): value is string {
  return isHlc(value) && value.length <= maxLength && !hasLoneSurrogate(value);
}
