import type { TransferProgress } from '../assets/progress.js';
import type { ParkedConflict } from '../conflict/types.js';
import type { IncomingDelivery } from '../deliveries/inbox.js';
import type { SyncError } from '../errors/sync-error.js';
import type { Delivery } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { UntypedCollections } from '../schema/collections.js';
import type { SyncStatus } from '../status/types.js';

/**
 * Events of the client (typed; `on`, `once`, `off`). `Collections` is the client's record type per
 * collection; `change` names only declared collections.
 */
export interface SyncEvents<Collections extends object = UntypedCollections> {
  /** Records of one collection changed in the view; batched (one event per collection per batch). */
  change: (event: { collection: keyof Collections & string; ids: string[] }) => void;
  /** The status snapshot changed. */
  status: (status: SyncStatus) => void;
  /** A conflict was parked for manual resolution. */
  conflict: (conflict: ParkedConflict) => void;
  /** A mutation was rejected permanently and rolled back. */
  rejected: (deadLetter: DeadLetter) => void;
  /** A record from the server failed its collection's schema and was not applied. */
  'invalid-record': (invalid: InvalidRecord) => void;
  /**
   * A delivery reached this session (once per delivery and session, across reloads, reconnections
   * and tabs). It is acknowledged when the listener's promise resolves, or by `event.ack()`.
   * `client.on('delivery', listener, { kind })` listens for one kind; a delivery of a kind
   * nobody listens for is not acknowledged, it waits for a listener of its kind.
   */
  delivery: (event: IncomingDelivery) => void | Promise<void>;
  /** An upload or download moved (bytes done, total, rate, ETA) or changed state. */
  transfer: (progress: Readonly<TransferProgress>) => void;
  /**
   * A delivery listener (or the download of its asset) failed; it will be offered again. A
   * listener's own error (anything but a `SyncError`, which comes as it is) is kind `app`, with
   * its message and the thrown value as `cause`; a failed download says why (`network`,
   * `rejected` `hash_mismatch`, ...). On the holder's side of a transfer, an `assets.provide`
   * provider that throws is reported here too (kind `app`; the request is offered again).
   */
  deliveryFailed: (error: SyncError, delivery: Delivery) => void;
}
