import type { SyncTransaction } from '../api/client.js';
import { RecordIndex } from '../outbox/record-index.js';
import type { JsonObject } from '../protocol/types.js';
import type { RecordStore } from '../store/record-store.js';
import type { CollectionGuard } from './collection-guard.js';
import type { LocalWrite } from './local-writer.js';

/**
 * Runs a transaction's `build` and returns its checked writes. Each write passes the guard
 * (declared collection, schema) as it is made; a patch is checked against the record as the
 * transaction has built it so far, not only as the view shows it. If `build` or a check throws,
 * nothing is returned and nothing is written.
 */
export function buildTransaction(
  guard: CollectionGuard,
  store: RecordStore,
  build: (tx: SyncTransaction) => void,
): LocalWrite[] {
  const writes: LocalWrite[] = [];
  // What the transaction has made of each record so far. A deleted record is staged as an
  // empty one: a later patch merges into nothing, as into a record the view does not have.
  const staged = new RecordIndex<Readonly<JsonObject>>();
  build({
    put: (collection, id, data) => {
      const frozen = guard.put(collection, id, data);
      staged.set(collection, id, frozen);
      writes.push({ op: 'put', collection, id, data: frozen });
    },
    patch: (collection, id, fields) => {
      const before = staged.get(collection, id) ?? store.get(collection, id);
      const frozen = guard.patch(collection, id, fields, before);
      staged.set(collection, id, { ...before, ...frozen });
      writes.push({ op: 'patch', collection, id, data: frozen });
    },
    delete: (collection, id) => {
      guard.target(collection, id);
      staged.set(collection, id, {});
      writes.push({ op: 'delete', collection, id });
    },
  });
  return writes;
}
