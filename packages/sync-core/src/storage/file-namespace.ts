import { createHash, randomUUID } from 'node:crypto';
import { constants, type FileHandle, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { storageError } from './batch.js';
import { EntryMap } from './entry-map.js';
import {
  decodeJournal,
  decodeSnapshot,
  encodeRecord,
  encodeSnapshot,
  type JournalRecord,
} from './file-format.js';

/** Where one namespace lives and when to compact it. */
export interface NamespaceLocation {
  directory: string;
  namespace: string;
  compactAfterBytes: number;
}

interface PendingRecord {
  record: JournalRecord;
  bytes: Buffer;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One namespace of the file storage: its entries in memory (reads never touch the disk), its
 * snapshot and its journal. Writes are queued and drained one group at a time, so they are
 * serialized; a group of batches that queued up while the previous group was being written
 * goes to disk in one write and one fsync, each batch still its own checksummed record.
 */
export class NamespaceFiles {
  readonly entries = new EntryMap<unknown>();
  readonly #location: NamespaceLocation;
  /** File name stem: a hash, because namespace names may hold any character. */
  readonly #stem: string;
  #generation = 0;
  #journal: FileHandle | undefined;
  /** Bytes of whole records in the journal: where the next record goes. */
  #journalBytes = 0;
  /** Journal size that triggers the next compaction. */
  #compactAt: number;
  #queue: PendingRecord[] = [];
  #draining: Promise<void> | undefined;

  private constructor(location: NamespaceLocation) {
    this.#location = location;
    this.#stem = `ns-${createHash('sha256').update(location.namespace).digest('hex').slice(0, 32)}`;
    this.#compactAt = location.compactAfterBytes;
  }

  /** Loads the snapshot and replays the journal, dropping a torn tail and stray files. */
  static async load(location: NamespaceLocation): Promise<NamespaceFiles> {
    const files = new NamespaceFiles(location);
    await files.#load();
    return files;
  }

  /**
   * Queues a batch (or clear) with its record from `encodeRecord`; resolves once the record
   * is on disk and the batch applied.
   */
  write(record: JournalRecord, bytes: Buffer = encodeRecord(record)): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, bytes, resolve, reject });
      this.#draining ??= this.#drain().finally(() => {
        this.#draining = undefined;
      });
    });
  }

  /** Resolves once every write queued so far has settled, so a read sees them. */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Waits for queued writes, then closes the journal. */
  async close(): Promise<void> {
    await this.settled();
    await this.#journal?.close();
    this.#journal = undefined;
  }

  #path(suffix: string): string {
    return join(this.#location.directory, `${this.#stem}.${suffix}`);
  }

  async #load(): Promise<void> {
    const { directory, namespace } = this.#location;
    const names = new Set(await readdir(directory));
    let snapshotBytes = 0;
    if (names.has(`${this.#stem}.snapshot`)) {
      const path = this.#path('snapshot');
      const bytes = await readFile(path);
      const snapshot = decodeSnapshot(bytes, path, namespace);
      this.#generation = snapshot.generation;
      for (const [key, value] of snapshot.entries) this.entries.set(key, value);
      snapshotBytes = bytes.length;
    }
    const journalName = `${this.#stem}.${this.#generation}.journal`;
    if (names.has(journalName)) {
      const handle = await open(this.#path(`${this.#generation}.journal`), 'r+');
      this.#journal = handle;
      const bytes = await handle.readFile();
      const { records, validBytes } = decodeJournal(bytes);
      for (const record of records) this.#apply(record);
      this.#journalBytes = validBytes;
      if (validBytes < bytes.length) {
        // A torn record from a crash: cut it off so new records follow whole ones.
        await handle.truncate(validBytes);
        await handle.datasync();
      }
    }
    this.#compactAt = Math.max(this.#location.compactAfterBytes, snapshotBytes);
    for (const name of names) {
      const stray =
        name.startsWith(`${this.#stem}.`) &&
        (name.endsWith('.tmp') || (name.endsWith('.journal') && name !== journalName));
      if (stray) await rm(join(directory, name), { force: true });
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0);
      const bytes = group.length === 1 ? group[0]!.bytes : Buffer.concat(group.map((p) => p.bytes));
      try {
        const journal = await this.#openJournal();
        await writeAll(journal, bytes, this.#journalBytes);
        await journal.datasync();
      } catch (cause) {
        await this.#rollback();
        const error = storageError('Could not write the storage journal', cause, isDiskFull(cause));
        for (const pending of group) pending.reject(error);
        continue;
      }
      this.#journalBytes += bytes.length;
      for (const pending of group) this.#apply(pending.record);
      for (const pending of group) pending.resolve();
      if (this.#journalBytes > this.#compactAt) await this.#compact();
    }
  }

  #apply(record: JournalRecord): void {
    if (record === 'clear') {
      this.entries.clear();
      return;
    }
    for (const op of record) {
      if (op.type === 'set') this.entries.set(op.key, op.value);
      else this.entries.delete(op.key);
    }
  }

  async #openJournal(): Promise<FileHandle> {
    if (this.#journal !== undefined) return this.#journal;
    // Read-write without truncating and without O_APPEND (which would ignore the position of
    // positional writes); then the directory is synced so the new name survives a crash.
    const flags = constants.O_RDWR | constants.O_CREAT;
    this.#journal = await open(this.#path(`${this.#generation}.journal`), flags);
    await syncDirectory(this.#location.directory);
    return this.#journal;
  }

  /**
   * After a failed append, cut the journal back to its last whole record, so a record that
   * reached the disk although its write reported failure cannot reappear after a restart.
   */
  async #rollback(): Promise<void> {
    try {
      await this.#journal?.truncate(this.#journalBytes);
      await this.#journal?.datasync();
    } catch {
      // The next write reopens the file and writes at the same offset, over the tail.
      await this.#journal?.close().catch(() => undefined);
      this.#journal = undefined;
    }
  }

  /**
   * Writes the whole namespace as the snapshot of the next generation and starts its empty
   * journal. The rename of the snapshot is the commit point: before it, the old snapshot and
   * journal hold everything; after it, the new snapshot does.
   */
  async #compact(): Promise<void> {
    const next = this.#generation + 1;
    const snapshot = encodeSnapshot(this.#location.namespace, next, this.entries.list(''));
    const temp = this.#path(`snapshot.${randomUUID()}.tmp`);
    const nextJournalPath = this.#path(`${next}.journal`);
    let nextJournal: FileHandle | undefined;
    try {
      await writeFileDurably(temp, snapshot);
      nextJournal = await open(nextJournalPath, 'w+');
      await nextJournal.sync();
      await rename(temp, this.#path('snapshot'));
      await syncDirectory(this.#location.directory);
    } catch {
      // Nothing is lost: the journal still holds every record. Try again after it doubles.
      await nextJournal?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      await rm(nextJournalPath, { force: true }).catch(() => undefined);
      this.#compactAt = this.#journalBytes * 2;
      return;
    }
    const oldJournal = this.#journal;
    const oldJournalPath = this.#path(`${this.#generation}.journal`);
    this.#journal = nextJournal;
    this.#generation = next;
    this.#journalBytes = 0;
    this.#compactAt = Math.max(this.#location.compactAfterBytes, snapshot.length);
    await oldJournal?.close().catch(() => undefined);
    // A leftover old journal is harmless (load deletes journals of other generations).
    await rm(oldJournalPath, { force: true }).catch(() => undefined);
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.length - written,
      position + written,
    );
    written += bytesWritten;
  }
}

async function writeFileDurably(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await writeAll(handle, bytes, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory makes renames and new names in it durable (POSIX; no-op on Windows). */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `true` for a write that failed because the disk (or the user's disk quota) is full. */
function isDiskFull(cause: unknown): boolean {
  const errno = (cause as { code?: unknown } | null)?.code;
  return errno === 'ENOSPC' || errno === 'EDQUOT';
}
