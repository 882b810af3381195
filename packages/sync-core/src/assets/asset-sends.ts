import type { TargetSpec } from '../deliveries/targets.js';
import { DEVICE_NAMESPACE } from '../ids/client-id.js';
import type { StorageAdapter } from '../storage/types.js';

/**
 * A `client.assets.send` the server has not taken yet: its bytes are in the asset store, and
 * this record (in device storage) is the intent to upload them and create the delivery. It is
 * written before the upload starts and removed once the delivery exists (or the send failed for
 * good), so a send cut short by a reload, a crash or `stop()` continues at the next sign-in of
 * its user, with the same delivery id (the server takes a repeated send as the same delivery).
 */
export interface PendingAssetSend {
  /** The delivery id. */
  id: string;
  /** The user who sent it (only their sign-in resumes it). */
  userId: string;
  /** The asset's SHA-256. */
  hash: string;
  /** Its size in bytes. */
  size: number;
  /**
   * The upload by id its bytes went to (a stream or a Blob sent to a server that takes
   * them): a resumed send continues that upload from the offset the server holds.
   */
  uploadId?: string;
  /** File name shown to the receivers. */
  name?: string;
  /** Media type. */
  mimeType?: string;
  /** Who receives it (the default when absent). */
  target?: TargetSpec;
  /** Seconds until the delivery expires (the default when absent). */
  ttl?: number;
}

const PREFIX = 'asset-send/';

/** The pending sends of this installation, in device storage. */
export class AssetSendLog {
  readonly #storage: StorageAdapter;

  constructor(storage: StorageAdapter) {
    this.#storage = storage;
  }

  /** Records `send` durably (resolves once it is). */
  async record(send: PendingAssetSend): Promise<void> {
    await this.#storage.write(DEVICE_NAMESPACE, [
      { type: 'set', key: keyOf(send.userId, send.id), value: send },
    ]);
  }

  /** The send is over (delivered, or failed for good). */
  async done(send: Pick<PendingAssetSend, 'userId' | 'id'>): Promise<void> {
    await this.#storage.write(DEVICE_NAMESPACE, [
      { type: 'delete', key: keyOf(send.userId, send.id) },
    ]);
  }

  /** The sends `userId` left unfinished, oldest first (ids are time-ordered UUIDv7s). */
  async list(userId: string): Promise<PendingAssetSend[]> {
    const entries = await this.#storage.list(DEVICE_NAMESPACE, userPrefix(userId));
    return entries.map(([, value]) => value as PendingAssetSend);
  }
}

// Encoded: a user id holding '/' must not reach into another user's prefix.
function userPrefix(userId: string): string {
  return `${PREFIX}${encodeURIComponent(userId)}/`;
}

function keyOf(userId: string, id: string): string {
  return `${userPrefix(userId)}${id}`;
}
