import type { SyncClient } from '../../api/client.js';
import type { JsonObject } from '../../protocol/types.js';
import type { TokenOp } from './checks.js';
import type { SimDevice } from './device.js';
import type { RunHistory } from './run-state.js';
import { appended, incremented, poisonData, type WorkloadOp } from './workload.js';

/**
 * Runs one workload operation on a device's client and records its outcome: `ok` when the
 * write resolved (durable locally), `fail` when it threw, `pending` forever if the device
 * crashed first (an indeterminate write: it may or may not reach the server, never twice).
 */
export function execute(device: SimDevice, op: WorkloadOp, history: RunHistory): void {
  const client = device.client;
  const userId = device.userId;
  if (client === undefined || userId === null || !device.running) {
    history.trace(`skip ${op.kind} ${device.id} (not running)`);
    return;
  }
  history.trace(`op ${device.id} ${JSON.stringify(op)}`);
  const write = (
    run: () => Promise<void>,
    onSettle?: (status: TokenOp['status']) => void,
  ): void => {
    // CP1/CP2: the next storage write of this client is this op's outbox write.
    if (device.armed === 'before-outbox-write') device.armNextWrite('before');
    else if (device.armed === 'after-outbox-write') device.armNextWrite('after');
    let promise: Promise<void>;
    try {
      promise = run();
    } catch (error) {
      history.trace(`op threw ${device.id}: ${String(error)}`);
      onSettle?.('fail');
      return;
    }
    promise.then(
      () => onSettle?.('ok'),
      (error: unknown) => {
        history.trace(`op failed ${device.id}: ${String(error)}`);
        onSettle?.('fail');
      },
    );
  };
  // Every write carries the device's write sequence in `w_<device>` (INV-8 orders HLCs by it;
  // a coalesced mutation carries its latest write's).
  const stamp = (fields: JsonObject, seq = device.tokenSeq++): JsonObject => ({
    ...fields,
    [`w_${device.id}`]: seq,
  });
  const upsert = (collection: string, id: string, fields: JsonObject) => () =>
    client.get(collection, id) === undefined
      ? client.put(collection, id, fields)
      : client.patch(collection, id, fields);

  switch (op.kind) {
    case 'increment':
    case 'append': {
      const collection = op.kind === 'increment' ? 'counters' : 'logs';
      const field = `${op.kind === 'increment' ? 't' : 'a'}_${device.id}`;
      const seq = device.tokenSeq++;
      const token = `${device.id}#${seq}`;
      const current = client.get(collection, op.recordId);
      const data =
        op.kind === 'increment'
          ? incremented(current, userId, field, token)
          : appended(current, userId, field, token);
      const record: TokenOp = {
        token,
        deviceId: device.id,
        seq,
        userId,
        collection,
        recordId: op.recordId,
        field,
        status: 'pending',
      };
      history.tokens.push(record);
      write(upsert(collection, op.recordId, stamp(data, seq)), (status) => {
        record.status = status;
      });
      return;
    }
    case 'title':
      write(upsert(op.collection, op.recordId, stamp({ u: userId, title: op.value })));
      return;
    case 'put':
      write(() => client.put(op.collection, op.recordId, stamp({ ...op.data, u: userId })));
      return;
    case 'delete':
      if (client.get(op.collection, op.recordId) === undefined) return;
      write(() => client.delete(op.collection, op.recordId));
      return;
    case 'revive':
      // An update of a record that may be deleted here or on the server (F12).
      write(upsert('notes', op.recordId, stamp({ u: userId, title: op.value, revived: true })));
      return;
    case 'transaction': {
      const seq = device.tokenSeq++;
      write(() =>
        client.transaction((tx) => {
          if (op.deleteNote && client.get('notes', op.noteId) !== undefined)
            tx.delete('notes', op.noteId);
          else tx.put('notes', op.noteId, stamp({ u: userId, title: op.value, tx: true }, seq));
          tx.put('drafts', op.draftId, stamp({ u: userId, title: op.value, tx: true }, seq));
        }),
      );
      return;
    }
    case 'poison': {
      const record = {
        deviceId: device.id,
        userId,
        recordId: op.recordId,
        status: 'pending' as TokenOp['status'],
      };
      history.poisons.push(record);
      write(
        () => client.put('junk', op.recordId, poisonData(userId)),
        (status) => {
          record.status = status;
        },
      );
      return;
    }
    case 'hostile': {
      const text = op.proto
        ? `{"__proto__":{"polluted":"${op.value}"},"title":"${op.value}"}`
        : `{"constructor":{"prototype":{"polluted":"${op.value}"}},"title":"${op.value}"}`;
      const data = JSON.parse(text) as JsonObject;
      data.u = userId;
      write(
        () => client.put('notes', op.recordId, op.proto ? data : stamp(data)),
        (status) => {
          if (op.proto && status === 'ok') {
            history.violate({
              inv: 'INV-14',
              message: `${device.id} accepted a record with an own __proto__ key`,
            });
          }
          if (op.proto && status === 'fail') history.counters.add('path.proto-refused');
        },
      );
      return;
    }
    case 'race':
      // Handled by the simulator (it spans devices); as a single op it is a plain put.
      write(() =>
        client.put('notes', op.recordId, stamp({ u: userId, title: op.value, race: true })),
      );
      return;
    case 'sync':
      void syncQuietly(client);
      return;
  }
}

async function syncQuietly(client: SyncClient): Promise<void> {
  try {
    await client.syncNow();
  } catch {
    // syncNow reports failures through status; the sim only wants the traffic.
  }
}
