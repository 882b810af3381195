import { SyncError } from '../errors/sync-error.js';
import { hashBytes, type ImportOptions, writeAsset } from './transfer-io.js';
import { WrittenBytes } from './upload-chunks.js';

/** A send's bytes on their way into the store, their hash known. */
export interface SendImport {
  hash: string;
  size: number;
  /** Settles once every byte is in the partial (not committed). */
  written: Promise<void>;
  /** How far the partial is, while `written` is pending; absent when it was written first. */
  progress?: WrittenBytes;
}

/**
 * Starts writing a send's bytes to the partial `options.key` and resolves with their hash once
 * it is known, so that the upload (addressed by the hash) starts as early as it can.
 *
 * Bytes in memory (a `Uint8Array`, where the hash is native) are hashed first, which costs a
 * fraction of writing them, and then written while the upload reads each chunk as it lands:
 * `written` settles once every byte is written and hashed the same again; bytes that hash
 * otherwise (the array changed in between) fail it, `invalid` with code `source_changed`, and
 * the partial is dropped, so nothing is ever committed under a hash its bytes do not have.
 * Any other source (a stream, a Blob; see {@link hashBytes}) is written and hashed whole
 * before this resolves. Either way the partial is flushed behind the writes
 * (`ImportOptions.flushBehind`), so the commit that follows has little left to sync.
 */
export async function importForSend(options: ImportOptions): Promise<SendImport> {
  const { store, key } = options;
  const hashed = hashBytes(options.source);
  if (hashed === undefined) {
    return { ...(await writeAsset({ ...options, flushBehind: true })), written: Promise.resolve() };
  }
  const progress = new WrittenBytes();
  const written = writeAsset({
    ...options,
    flushBehind: true,
    onWritten: (end) => progress.advance(end),
  })
    .then(async (result) => {
      if (result.hash === hashed.hash && result.size === hashed.size) return;
      await store.discardPartial(key).catch(() => undefined);
      throw new SyncError(
        'invalid',
        `The asset's bytes changed while it was sent: they hashed to ${hashed.hash}, then to ${result.hash}`,
        { code: 'source_changed' },
      );
    })
    .catch((error: unknown) => {
      progress.fail(error); // before `written` rejects: no upload read goes on waiting
      throw error;
    });
  written.catch(() => undefined); // awaited by the send's commit
  return { ...hashed, written, progress };
}
