import { compareHlc, isHlc, parseHlc } from '../../clock/hlc.js';
import type { ConflictContext, ConflictResolution } from '../../conflict/types.js';
import type {
  Json,
  JsonObject,
  Mutation,
  MutationResult,
  SyncRecord,
} from '../../protocol/types.js';

/**
 * Invariant checkers. Each is a pure function of recorded facts (server state, what the
 * network saw, what the workload did, what resolvers answered), so each can be unit-tested on
 * a synthetic history. See `simulate.ts` for which invariant is checked when.
 *
 * @module
 */

/** The invariant ids of the reliability plan (reference §4.2), adapted to syncline's design. */
export type InvariantId =
  | 'INV-1'
  | 'INV-2'
  | 'INV-3'
  | 'INV-4'
  | 'INV-5'
  | 'INV-7'
  | 'INV-8'
  | 'INV-11'
  | 'INV-12'
  | 'INV-13'
  | 'INV-14'
  | 'DETERMINISM';

/** Short names printed after the id. */
export const INVARIANT_NAMES: Record<InvariantId, string> = {
  'INV-1': 'lost write',
  'INV-2': 'duplicate application',
  'INV-3': 'per-record order',
  'INV-4': 'replica diverges from server',
  'INV-5': 'checkpoint went back',
  'INV-7': 'resurrection / overwrite without revision check',
  'INV-8': 'clock discipline',
  'INV-11': 'poison-pill stall',
  'INV-12': 'liveness',
  'INV-13': 'traffic when idle',
  'INV-14': 'integrity',
  DETERMINISM: 'non-deterministic run',
};

/** One broken invariant. */
export interface Violation {
  /** Which invariant. */
  inv: InvariantId;
  /** What was seen (devices, records, mutation ids). */
  message: string;
  /** The workload step (operation index) at which it was detected, if during the run. */
  step?: number;
}

/** One workload write that carries a unique token (counter increment or list append). */
export interface TokenOp {
  token: string;
  deviceId: string;
  /** Per-device sequence; a device's tokens must appear in this order. */
  seq: number;
  userId: string;
  collection: string;
  recordId: string;
  /** The list field the token was appended to (the device's own field). */
  field: string;
  /** `ok`: the write resolved (durable locally); `fail`: it threw; `pending`: never settled (crash). */
  status: 'pending' | 'ok' | 'fail';
}

/** Collections whose records carry `n` = number of tokens over all their `t_*` fields. */
export const COUNTER_COLLECTION = 'counters';

const parseToken = (token: string): { deviceId: string; seq: number } | undefined => {
  const at = token.lastIndexOf('#');
  if (at <= 0) return undefined;
  const seq = Number(token.slice(at + 1));
  return Number.isInteger(seq) ? { deviceId: token.slice(0, at), seq } : undefined;
};

/** The list fields (`t_*`, `a_*`) of a record's data that hold tokens. */
export function tokenFields(data: JsonObject): Array<[field: string, tokens: Json[]]> {
  const fields: Array<[string, Json[]]> = [];
  for (const key of Object.keys(data)) {
    if (!key.startsWith('t_') && !key.startsWith('a_')) continue;
    const value = data[key];
    fields.push([key, Array.isArray(value) ? value : []]);
  }
  return fields;
}

/**
 * INV-1 (no lost write), INV-2 (no duplicate application) and INV-3 (per-record order) over the
 * final server records and the token writes of the workload:
 * - every `ok` token is in its record's field; no `fail` token is anywhere;
 * - no token appears twice, or appears that no write made;
 * - a device's tokens in one field are in its write order;
 * - a counter's `n` never exceeds the number of tokens in its record (a twice-applied
 *   increment, or one re-applied by a resolver that saw a stale conflict, breaks it).
 */
export function checkTokens(
  records: ReadonlyMap<string, SyncRecord[]>,
  ops: readonly TokenOp[],
): Violation[] {
  const violations: Violation[] = [];
  const byToken = new Map<string, TokenOp>();
  for (const op of ops) byToken.set(op.token, op);
  const seen = new Map<string, string>();
  for (const [scope, list] of records) {
    for (const record of list) {
      if (record.deleted || record.data === null) continue;
      const where = `${scope}/${record.collection}/${record.id}`;
      let total = 0;
      for (const [field, tokens] of tokenFields(record.data)) {
        total += tokens.length;
        let lastSeq = -1;
        for (const value of tokens) {
          const token = String(value);
          const previous = seen.get(token);
          if (previous !== undefined) {
            violations.push({
              inv: 'INV-2',
              message: `token ${token} applied twice (${previous} and ${where}.${field})`,
            });
          }
          seen.set(token, `${where}.${field}`);
          const op = byToken.get(token);
          const parsed = parseToken(token);
          if (op === undefined || parsed === undefined) {
            violations.push({
              inv: 'INV-2',
              message: `unknown token ${token} in ${where}.${field}`,
            });
            continue;
          }
          if (op.status === 'fail') {
            violations.push({
              inv: 'INV-2',
              message: `token ${token} of a failed write is in ${where}.${field}`,
            });
          }
          if (`${op.userId}` !== scope.slice('user:'.length) || op.recordId !== record.id) {
            violations.push({
              inv: 'INV-14',
              message: `token ${token} written to user:${op.userId}/${op.collection}/${op.recordId} is in ${where}`,
            });
          }
          if (parsed.seq <= lastSeq) {
            violations.push({
              inv: 'INV-3',
              message: `${where}.${field}: token ${token} after seq ${lastSeq} (out of write order)`,
            });
          }
          lastSeq = parsed.seq;
        }
      }
      // One-sided: an increment is a patch of the absolute `n`, so a queued patch rebased onto a
      // merged write legitimately drops increments (n < tokens); but n can only exceed the
      // tokens if some increment was applied twice (a duplicate, or a resolver that re-added a
      // delta already on the server because it saw its own write as a conflict).
      if (record.collection === COUNTER_COLLECTION) {
        const n = record.data.n;
        if (typeof n !== 'number' || n > total) {
          violations.push({
            inv: 'INV-2',
            message: `${where}: counter n=${JSON.stringify(n)} but only ${total} distinct increments exist`,
          });
        }
      }
    }
  }
  for (const op of ops) {
    if (op.status !== 'ok' || seen.has(op.token)) continue;
    violations.push({
      inv: 'INV-1',
      message: `acknowledged write ${op.token} (${op.collection}/${op.recordId}.${op.field} of user ${op.userId}) is not on the server`,
    });
  }
  return violations;
}

/** Every answer the server produced for a mutation id, delivered or not (for INV-2). */
export interface ObservedOutcome {
  deviceId: string;
  userId: string;
  result: MutationResult;
  time: number;
  /** The answer reached the client (not lost, not a duplicate delivery, not after a timeout). */
  delivered: boolean;
}

/** A push the network carried, with the mutations as sent. */
export interface SentMutation {
  deviceId: string;
  clientId: string;
  mutation: Mutation;
}

/**
 * INV-2 (idempotency: a mutation id seen again gets its stored outcome) and INV-3 (a client
 * never conflicts with its own earlier write: per-record order with rebasing).
 */
export function checkOutcomes(
  outcomes: ReadonlyMap<string, readonly ObservedOutcome[]>,
  sent: ReadonlyMap<string, SentMutation>,
): Violation[] {
  const violations: Violation[] = [];
  for (const [id, list] of outcomes) {
    // A conflict is not stored (it changed nothing), so a conflict before the first
    // applied/rejected answer is fine; every answer after that one must repeat it.
    const firstIndex = list.findIndex((o) => o.result.status !== 'conflict');
    const first = list[firstIndex];
    if (first !== undefined) {
      for (const other of list.slice(firstIndex + 1)) {
        if (sameOutcome(first.result, other.result)) continue;
        violations.push({
          inv: 'INV-2',
          message: `mutation ${id} got ${describe(first.result)} and later ${describe(other.result)} (stored outcome not returned)`,
        });
        break;
      }
    }
    const mutation = sent.get(id);
    if (mutation === undefined) continue;
    for (const outcome of list) {
      const result = outcome.result;
      // Only answers the client received: a late duplicate of an old request may well meet
      // the client's own newer write, but nobody acts on its answer.
      if (!outcome.delivered || result.status !== 'conflict' || result.server === null) continue;
      if (result.server.revision === mutation.mutation.baseRevision) continue; // tx sibling
      if (!isHlc(result.server.hlc)) continue;
      if (parseHlc(result.server.hlc).nodeId !== mutation.clientId) continue;
      violations.push({
        inv: 'INV-3',
        message: `mutation ${id} of ${mutation.deviceId} (base ${mutation.mutation.baseRevision}) conflicted with its own client's write at revision ${result.server.revision}`,
      });
      break;
    }
  }
  return violations;
}

function sameOutcome(a: ObservedOutcome['result'], b: ObservedOutcome['result']): boolean {
  if (a.status !== b.status) return false;
  if (a.status === 'applied' && b.status === 'applied') return a.revision === b.revision;
  if (a.status === 'rejected' && b.status === 'rejected') return a.code === b.code;
  return true;
}

function describe(result: ObservedOutcome['result']): string {
  if (result.status === 'applied') return `applied@${result.revision}`;
  if (result.status === 'rejected') return `rejected(${result.code})`;
  return `conflict@${result.server?.revision ?? 'absent'}`;
}

/** Canonical JSON: object keys sorted, so equal data compares equal as text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const object = value as Record<string, unknown>;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(',')}}`;
}

/**
 * INV-4: a replica (live records by `collection/id`) equals the oracle (the server's live
 * records of the user's scope). Reports the first few differences.
 */
export function checkConvergence(
  deviceId: string,
  replica: ReadonlyMap<string, unknown>,
  oracle: ReadonlyMap<string, unknown>,
): Violation[] {
  const diffs: string[] = [];
  for (const [key, value] of oracle) {
    const mine = replica.get(key);
    if (mine === undefined) diffs.push(`${key} missing`);
    else if (canonicalJson(mine) !== canonicalJson(value))
      diffs.push(`${key} = ${canonicalJson(mine)}, server ${canonicalJson(value)}`);
  }
  for (const key of replica.keys()) if (!oracle.has(key)) diffs.push(`${key} not on the server`);
  if (diffs.length === 0) return [];
  return [
    {
      inv: 'INV-4',
      message: `${deviceId}: ${diffs.length} record(s) differ: ${diffs.slice(0, 3).join('; ')}`,
    },
  ];
}

/** One resolver call, as the sim's resolver wrapper logged it. */
export interface ResolverCall {
  deviceId: string;
  kind: string;
  context: ConflictContext;
  resolution: ConflictResolution;
  resolver: (context: ConflictContext) => ConflictResolution;
}

/**
 * INV-8 for resolvers: each is deterministic (re-run on a copy of its input gives the same
 * answer), and `lww` keeps the write with the later HLC, whichever side is local.
 */
export function checkResolutions(calls: readonly ResolverCall[]): Violation[] {
  const violations: Violation[] = [];
  for (const call of calls) {
    const again = call.resolver(JSON.parse(JSON.stringify(call.context)) as ConflictContext);
    if (canonicalJson(again) !== canonicalJson(call.resolution)) {
      violations.push({
        inv: 'INV-8',
        message: `${call.kind} resolver of ${call.deviceId} answered ${canonicalJson(call.resolution)} then ${canonicalJson(again)} for the same conflict`,
      });
    }
    if (call.kind !== 'lww') continue;
    const { localHlc, serverHlc, collection, id } = call.context;
    const localWins = compareHlc(localHlc, serverHlc) > 0;
    if (isFieldLevel(call.context)) {
      violations.push(...checkFieldLww(call, localWins));
      continue;
    }
    const wrote = call.resolution.action === 'write';
    if (localWins !== wrote) {
      violations.push({
        inv: 'INV-8',
        message: `lww on ${collection}/${id} at ${call.deviceId} kept the ${wrote ? 'local' : 'server'} write although local ${localHlc} ${localWins ? '>' : '<='} server ${serverHlc}`,
      });
    }
  }
  return violations;
}

/** `lww` decides a local patch over a live server record per field (see `lww`). */
function isFieldLevel(context: ConflictContext): boolean {
  return (
    context.mutation.op === 'patch' &&
    context.mutation.data !== undefined &&
    context.local !== null &&
    context.server !== null
  );
}

/**
 * Per-field `lww` of a patch: each patched field ends with the patch's value when the server
 * had not changed it since the patch's base or the patch is the later write, else with the
 * server's value; every other field is the server's.
 */
function checkFieldLww(call: ResolverCall, localWins: boolean): Violation[] {
  const { mutation, base, server, collection, id } = call.context;
  const patch = mutation.data as JsonObject;
  const serverData = server as JsonObject;
  const result = call.resolution.action === 'write' ? call.resolution.data : serverData;
  const expected: Record<string, unknown> = { ...serverData };
  for (const key of Object.keys(patch)) {
    const serverChanged = canonicalJson(serverData[key]) !== canonicalJson(base?.[key]);
    if (!serverChanged || localWins) expected[key] = patch[key];
  }
  if (canonicalJson(result) === canonicalJson(expected)) return [];
  return [
    {
      inv: 'INV-8',
      message: `lww on ${collection}/${id} at ${call.deviceId} merged patch ${canonicalJson(patch)} over ${canonicalJson(serverData)} into ${canonicalJson(result)}, expected ${canonicalJson(expected)}`,
    },
  ];
}

/**
 * INV-8 clock discipline on the wire: every mutation's HLC is issued by its own client, no two
 * mutations of one client share an HLC, and a device's writes carry increasing HLCs in the
 * order it made them (across crashes, restarts and a backwards clock jump). `order` gives each
 * mutation id its position in the device's write order, when known (from the tokens it carries).
 */
export function checkHlcs(
  sent: ReadonlyMap<string, SentMutation>,
  order: ReadonlyMap<string, number>,
): Violation[] {
  const violations: Violation[] = [];
  const byHlc = new Map<string, string>();
  const byDevice = new Map<string, Array<{ pos: number; hlc: string; id: string }>>();
  for (const [id, { clientId, deviceId, mutation }] of sent) {
    if (!isHlc(mutation.hlc) || parseHlc(mutation.hlc).nodeId !== clientId) {
      violations.push({
        inv: 'INV-8',
        message: `mutation ${id} of ${deviceId} has HLC ${mutation.hlc} not issued by client ${clientId}`,
      });
      continue;
    }
    const other = byHlc.get(mutation.hlc);
    if (other !== undefined) {
      violations.push({
        inv: 'INV-8',
        message: `mutations ${other} and ${id} share HLC ${mutation.hlc}`,
      });
    }
    byHlc.set(mutation.hlc, id);
    const pos = order.get(id);
    if (pos === undefined) continue;
    let list = byDevice.get(deviceId);
    if (list === undefined) {
      list = [];
      byDevice.set(deviceId, list);
    }
    list.push({ pos, hlc: mutation.hlc, id });
  }
  for (const [deviceId, list] of byDevice) {
    list.sort((a, b) => a.pos - b.pos);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (cur.pos !== prev.pos && compareHlc(cur.hlc, prev.hlc) <= 0) {
        violations.push({
          inv: 'INV-8',
          message: `${deviceId}: write ${cur.id} made after ${prev.id} has HLC ${cur.hlc} <= ${prev.hlc}`,
        });
        break;
      }
    }
  }
  return violations;
}

/**
 * INV-14: no replica row of another user (every record carries its owner in `u`), replica
 * objects have plain prototypes, and `Object.prototype` gained no keys.
 */
export function checkIntegrity(
  deviceId: string,
  userId: string,
  replica: ReadonlyMap<string, unknown>,
  prototypeKeysBefore: readonly string[],
): Violation[] {
  const violations: Violation[] = [];
  for (const [key, value] of replica) {
    if (value === null || typeof value !== 'object') continue;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      violations.push({ inv: 'INV-14', message: `${deviceId}: ${key} has a foreign prototype` });
    }
    const owner = (value as Record<string, unknown>).u;
    if (owner !== undefined && owner !== userId) {
      violations.push({
        inv: 'INV-14',
        message: `${deviceId} signed in as ${userId} holds ${key} of user ${String(owner)}`,
      });
    }
  }
  const now = Object.getOwnPropertyNames(Object.prototype);
  const added = now.filter((k) => !prototypeKeysBefore.includes(k));
  if (added.length > 0) {
    violations.push({ inv: 'INV-14', message: `Object.prototype gained ${added.join(', ')}` });
  }
  return violations;
}
