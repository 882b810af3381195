import { clientWins, fieldMerge, lww, manual, serverWins } from '../../conflict/resolvers.js';
import type {
  ConflictContext,
  ConflictResolution,
  ConflictResolver,
} from '../../conflict/types.js';
import type { Json, JsonObject } from '../../protocol/types.js';
import type { SimRandom } from './sim-random.js';

/**
 * The workload: a small key space per user so devices collide, and writes built so that every
 * loss or duplicate shows in the final state.
 *
 * - `counters` (custom resolver `addDelta`): an increment patches `n: n + 1` and appends a
 *   unique token to the device's own list field `t_<device>` in the same write. Since `n` must
 *   equal the number of tokens, an increment applied twice, or re-applied by a resolver that saw
 *   a conflict with its own write (no dedupe, no rebase), shows as `n` > tokens.
 * - `logs` (fieldMerge): appends a unique token to `a_<device>`, or sets `title`.
 * - `notes` (lww): puts, patches, deletes, and updates of deleted records.
 * - `tags` (serverWins), `drafts` (clientWins), `tasks` (manual): puts, patches, deletes.
 * - `junk` (lww): a put with too many fields, which the server rejects permanently (poison pill).
 * - transactions over `notes` and `drafts`, explicit `syncNow`, and races: two devices of one
 *   user writing one `notes` record in the same virtual millisecond.
 *
 * Every record carries its owner in `u`, for the cross-user check (INV-14).
 *
 * @module
 */

/** The collections the workload writes, and which resolver each uses. */
export const RESOLVER_KINDS = {
  counters: 'custom',
  logs: 'fieldMerge',
  notes: 'lww',
  tags: 'serverWins',
  drafts: 'clientWins',
  tasks: 'manual',
  junk: 'lww',
} as const;

/** A workload collection name. */
export type SimCollection = keyof typeof RESOLVER_KINDS;

/** Record ids per collection (the small key space that forces conflicts). */
export const KEY_SPACE: Record<SimCollection, readonly string[]> = {
  counters: ['c0', 'c1', 'c2'],
  logs: ['l0', 'l1', 'l2', 'l3'],
  notes: ['n0', 'n1', 'n2', 'n3', 'n4'],
  tags: ['g0', 'g1', 'g2'],
  drafts: ['d0', 'd1', 'd2'],
  tasks: ['k0', 'k1', 'k2'],
  junk: [],
};

/** Fields of a poison-pill record: more than the server's `maxFieldsPerRecord` (24). */
export const POISON_FIELDS = 30;

/** One workload operation. */
export type WorkloadOp =
  | { kind: 'increment'; recordId: string }
  | { kind: 'append'; recordId: string }
  | {
      kind: 'title';
      collection: 'logs' | 'notes' | 'drafts' | 'tasks';
      recordId: string;
      value: string;
    }
  | {
      kind: 'put';
      collection: 'notes' | 'tags' | 'drafts' | 'tasks';
      recordId: string;
      data: JsonObject;
    }
  | { kind: 'delete'; collection: 'notes' | 'tags' | 'drafts' | 'tasks'; recordId: string }
  | { kind: 'revive'; recordId: string; value: string }
  | { kind: 'transaction'; noteId: string; draftId: string; value: string; deleteNote: boolean }
  | { kind: 'poison'; recordId: string }
  | { kind: 'race'; recordId: string; value: string }
  | { kind: 'hostile'; recordId: string; value: string; proto: boolean }
  | { kind: 'sync' };

/** Draws the next operation. `step` makes unique values and ids. */
export function nextOp(random: SimRandom, step: number): WorkloadOp {
  const value = `v${step}`;
  const roll = random.next();
  const plain = ['notes', 'tags', 'drafts', 'tasks'] as const;
  if (roll < 0.16) return { kind: 'increment', recordId: random.pick(KEY_SPACE.counters) };
  if (roll < 0.3) return { kind: 'append', recordId: random.pick(KEY_SPACE.logs) };
  if (roll < 0.42) {
    const collection = random.pick(['logs', 'notes', 'drafts', 'tasks'] as const);
    return { kind: 'title', collection, recordId: random.pick(KEY_SPACE[collection]), value };
  }
  if (roll < 0.6) {
    const collection = random.pick(plain);
    const data: JsonObject = { title: value, body: random.chance(0.5) ? `b${step}` : null };
    return { kind: 'put', collection, recordId: random.pick(KEY_SPACE[collection]), data };
  }
  if (roll < 0.7) {
    const collection = random.pick(plain);
    return { kind: 'delete', collection, recordId: random.pick(KEY_SPACE[collection]) };
  }
  if (roll < 0.76) return { kind: 'revive', recordId: random.pick(KEY_SPACE.notes), value };
  if (roll < 0.82) {
    return {
      kind: 'transaction',
      noteId: random.pick(KEY_SPACE.notes),
      draftId: random.pick(KEY_SPACE.drafts),
      value,
      deleteNote: random.chance(0.2),
    };
  }
  if (roll < 0.85) return { kind: 'poison', recordId: `j${step}` };
  if (roll < 0.9) return { kind: 'sync' };
  // Two devices of one user put the same lww record in the same virtual millisecond: equal
  // wall times, so only the full HLC (counter, node) orders them.
  if (roll < 0.95) return { kind: 'race', recordId: random.pick(KEY_SPACE.notes), value };
  // Keys that reach for prototypes (F24): `constructor.prototype` is plain data and must stay
  // data through merges; an own `__proto__` must be refused at the boundary.
  if (roll < 0.97) {
    return {
      kind: 'hostile',
      recordId: random.pick(KEY_SPACE.notes),
      value,
      proto: random.chance(0.3),
    };
  }
  return { kind: 'increment', recordId: random.pick(KEY_SPACE.counters) };
}

/** The data of a poison pill: a valid record locally, too many fields for the server. */
export function poisonData(owner: string): JsonObject {
  const data: JsonObject = { u: owner };
  for (let i = 0; i < POISON_FIELDS; i++) data[`f${i}`] = i;
  return data;
}

const asList = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);
const json = (value: Json | undefined): string => JSON.stringify(value ?? null);

/**
 * The counter resolver: `n` becomes the server's `n` plus the local delta (`local.n - base.n`),
 * every other field merges three-way (a field the local edit changed keeps the local value).
 * This is how apps count on top of revision checks, and why a stale `base` or a duplicate
 * conflict (own write seen as foreign) double-counts.
 */
export const addDelta: ConflictResolver = (context: ConflictContext): ConflictResolution => {
  const { base, local, server } = context;
  if (local === null) return { action: 'server' };
  if (server === null) return { action: 'write', data: local };
  const merged: JsonObject = {};
  const keys = new Set([...Object.keys(server), ...Object.keys(local)]);
  for (const key of keys) {
    if (key === 'n') continue;
    const localValue = Object.hasOwn(local, key) ? local[key] : undefined;
    const baseValue = base !== null && Object.hasOwn(base, key) ? base[key] : undefined;
    const serverValue = Object.hasOwn(server, key) ? server[key] : undefined;
    const value = json(localValue) !== json(baseValue) ? localValue : serverValue;
    if (value !== undefined) merged[key] = value;
  }
  const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0);
  merged.n = num(server.n) + num(local.n) - num(base?.n);
  return { action: 'write', data: merged };
};

/** The resolver of each workload collection. */
export function workloadResolvers(): Record<
  SimCollection,
  { kind: string; resolver: ConflictResolver }
> {
  return {
    counters: { kind: 'custom', resolver: addDelta },
    logs: { kind: 'fieldMerge', resolver: fieldMerge() },
    notes: { kind: 'lww', resolver: lww() },
    tags: { kind: 'serverWins', resolver: serverWins() },
    drafts: { kind: 'clientWins', resolver: clientWins() },
    tasks: { kind: 'manual', resolver: manual() },
    junk: { kind: 'lww', resolver: lww() },
  };
}

/** The data of an increment of `current` by the device whose list field is `field`. */
export function incremented(
  current: Readonly<JsonObject> | undefined,
  owner: string,
  field: string,
  token: string,
): JsonObject {
  const n = typeof current?.n === 'number' ? current.n : 0;
  return { u: owner, n: n + 1, [field]: [...asList(current?.[field]), token] };
}

/** The data of an append of `token` to the device's list field. */
export function appended(
  current: Readonly<JsonObject> | undefined,
  owner: string,
  field: string,
  token: string,
): JsonObject {
  return { u: owner, [field]: [...asList(current?.[field]), token] };
}
