import { SyncError } from '../errors/sync-error.js';
import type { SyncTransport } from './types.js';

/**
 * Checks the shape of the transport given to `createSyncClient`, so a transport that does not
 * fit the contract fails at construction instead of as a client that never syncs or is never
 * poked.
 *
 * `subscribe` takes one `SubscribeOptions` object. A transport written for the positional form
 * of earlier versions, `subscribe(scopes, onPoke, onConnect)`, would receive that object as its
 * `scopes` and no `onPoke`: it would throw inside the client (where realtime failures are
 * swallowed, being only hints) or subscribe to nothing, and the app would silently lose
 * realtime. It is recognised by its declared parameter count (`Function.length` above 1).
 *
 * @throws SyncError `invalid`
 */
export function checkTransport(transport: SyncTransport | undefined): void {
  if (typeof transport?.push !== 'function' || typeof transport.pull !== 'function') {
    throw new SyncError('invalid', 'createSyncClient needs a transport with push and pull');
  }
  if ((transport.subscribe?.length ?? 0) > 1) {
    throw new SyncError('invalid', 'write transport.subscribe({ scopes, onPoke, onConnect })');
  }
}
