import type { SyncRecord } from '../../protocol/types.js';
import type { AppliedLogEntry } from '../memory-push.js';
import {
  checkConvergence,
  checkHlcs,
  checkIntegrity,
  checkOutcomes,
  checkResolutions,
  checkTokens,
  type SentMutation,
  type Violation,
} from './checks.js';
import type { SimDevice } from './device.js';
import type { SimNetwork } from './network.js';
import type { PurgedRecord, RunHistory } from './run-state.js';
import { RESOLVER_KINDS } from './workload.js';

/** A device's live records, keyed `collection/id` (what INV-4 compares). */
export function replicaOf(device: SimDevice): Map<string, unknown> {
  const replica = new Map<string, unknown>();
  const client = device.client;
  if (client === undefined) return replica;
  for (const collection of Object.keys(RESOLVER_KINDS)) {
    for (const record of client.query(collection))
      replica.set(`${collection}/${record.id}`, record.data);
  }
  return replica;
}

/** The server's live records of a user's scope, keyed `collection/id` (the oracle of INV-4). */
export function oracleOf(records: readonly SyncRecord[]): Map<string, unknown> {
  const oracle = new Map<string, unknown>();
  for (const record of records) {
    if (!record.deleted && record.data !== null)
      oracle.set(`${record.collection}/${record.id}`, record.data);
  }
  return oracle;
}

/**
 * INV-2 on the server log (each mutation id applied at most once) and INV-7 (every applied
 * mutation was based on the record's revision at that moment, so nothing was overwritten
 * blindly and no tombstone was written over by a stale update). Replays each scope's applied
 * writes in version order, removing purged tombstones at the version where the purge ran.
 */
export function checkAppliedLog(
  log: readonly AppliedLogEntry[],
  sent: ReadonlyMap<string, SentMutation>,
  purged: readonly PurgedRecord[],
): Violation[] {
  const violations: Violation[] = [];
  const applied = new Set<string>();
  const scopes = new Map<string, AppliedLogEntry[]>();
  for (const entry of log) {
    if (applied.has(entry.mutationId)) {
      violations.push({
        inv: 'INV-2',
        message: `mutation ${entry.mutationId} applied twice (server log, version ${entry.version})`,
      });
    }
    applied.add(entry.mutationId);
    const list = scopes.get(entry.scope) ?? [];
    list.push(entry);
    scopes.set(entry.scope, list);
  }
  for (const [scope, entries] of scopes) {
    entries.sort((a, b) => a.version - b.version);
    const purges = purged
      .filter((p) => p.record.scope === scope)
      .sort((a, b) => a.atVersion - b.atVersion);
    const state = new Map<string, { revision: number; deleted: boolean }>();
    let nextPurge = 0;
    for (const entry of entries) {
      while (
        nextPurge < purges.length &&
        (purges[nextPurge] as PurgedRecord).atVersion < entry.version
      ) {
        const { record } = purges[nextPurge] as PurgedRecord;
        state.delete(`${record.collection}/${record.id}`);
        nextPurge++;
      }
      const key = `${entry.collection}/${entry.recordId}`;
      const current = state.get(key);
      const mutation = sent.get(entry.mutationId)?.mutation;
      if (mutation !== undefined) {
        const expected = current?.revision ?? 0;
        if (mutation.baseRevision !== expected) {
          violations.push({
            inv: 'INV-7',
            message: `${scope}/${key}: ${entry.op} ${entry.mutationId} applied on base ${mutation.baseRevision} while the record was at ${expected}${current?.deleted ? ' (a tombstone)' : ''}`,
          });
        }
      }
      state.set(key, { revision: entry.version, deleted: entry.op === 'delete' });
    }
  }
  return violations;
}

/**
 * The write order of each pushed mutation that first carried a new write of its own device (for
 * INV-8): every workload write stamps `w_<device>` with the device's write sequence, and a
 * coalesced mutation carries its latest write's. A resolver's write-back repeats a stamp an
 * earlier mutation carried (it is a new write, made later, with a later HLC), so it gets no
 * position. `sent` is in first-send order, and a conflicted mutation is sent before its
 * write-back.
 */
export function writeOrder(sent: ReadonlyMap<string, SentMutation>): Map<string, number> {
  const order = new Map<string, number>();
  const carried = new Set<string>();
  for (const [id, { deviceId, mutation }] of sent) {
    const seq = mutation.data?.[`w_${deviceId}`];
    if (typeof seq !== 'number') continue;
    const key = `${deviceId}#${seq}`;
    if (!carried.has(key)) order.set(id, seq);
    carried.add(key);
  }
  return order;
}

/** Every end-of-run check over the quiescent system. */
export async function finalChecks(options: {
  devices: readonly SimDevice[];
  users: readonly string[];
  network: SimNetwork;
  history: RunHistory;
  records: (scope: string) => Promise<SyncRecord[]>;
  /** The server's log; `null` skips the server-log checks (the backend cannot list it). */
  appliedLog: () => Promise<readonly AppliedLogEntry[] | null>;
  prototypeKeys: readonly string[];
}): Promise<Violation[]> {
  const { devices, users, network, history } = options;
  const violations: Violation[] = [];
  const byScope = new Map<string, SyncRecord[]>();
  for (const user of users) byScope.set(`user:${user}`, await options.records(`user:${user}`));
  violations.push(...checkTokens(byScope, history.tokens));
  violations.push(...checkOutcomes(network.outcomes, network.sent));
  violations.push(...checkResolutions(history.resolutions));
  // Write order is not observable from outside once coalescing and resolver write-backs mix
  // stamps, so HLC monotonicity is checked on the device's persisted clock (device.ts).
  violations.push(...checkHlcs(network.sent, new Map()));
  const log = await options.appliedLog();
  if (log !== null) violations.push(...checkAppliedLog(log, network.sent, history.purged));
  for (const device of devices) {
    const replica = replicaOf(device);
    const oracle = oracleOf(byScope.get(`user:${device.homeUser}`) ?? []);
    violations.push(...checkConvergence(device.id, replica, oracle));
    violations.push(...checkIntegrity(device.id, device.homeUser, replica, options.prototypeKeys));
    // INV-11: a poison pill of this device's user ends in its dead letters, never blocks.
    const dead = new Set((device.client?.deadLetters() ?? []).map((d) => d.mutation.recordId));
    for (const poison of history.poisons) {
      if (poison.deviceId !== device.id || poison.userId !== device.homeUser) continue;
      if (poison.status === 'ok' && !dead.has(poison.recordId)) {
        violations.push({
          inv: 'INV-11',
          message: `${device.id}: poison pill junk/${poison.recordId} is not in the dead letters`,
        });
      }
    }
  }
  for (const [scope, records] of byScope) {
    for (const record of records) {
      const owner = record.data?.u;
      if (owner !== undefined && `user:${String(owner)}` !== scope) {
        violations.push({
          inv: 'INV-14',
          message: `${scope}/${record.collection}/${record.id} holds data of user ${String(owner)}`,
        });
      }
    }
  }
  return violations;
}
