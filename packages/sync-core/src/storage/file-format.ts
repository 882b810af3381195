/**
 * Byte formats of the file storage (see the top comment of `file.ts` for the layout and the
 * crash guarantees). Pure encode/decode: no file system access here.
 */
import { createHash } from 'node:crypto';
import { storageError } from './batch.js';
import type { StorageWrite } from './types.js';

/** One journal record: a write batch, or a clear of the namespace. */
export type JournalRecord = readonly StorageWrite[] | 'clear';

/** `8 hex length` + space + `16 hex checksum` + newline. */
const HEADER_BYTES = 26;
const SNAPSHOT_FORMAT = 'syncline-file-storage-snapshot';

/** First 64 bits of SHA-256, in hex: enough to tell a torn or garbled record from a whole one. */
function checksum(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/**
 * Encodes a batch as one self-delimiting journal record. Throws a storage `SyncError` when a
 * value is not JSON, before anything is written.
 */
export function encodeRecord(record: JournalRecord): Buffer {
  let json: string;
  if (record === 'clear') {
    json = '"clear"';
  } else {
    const parts: string[] = [];
    for (const op of record) {
      if (op.type === 'delete') {
        parts.push(`["d",${JSON.stringify(op.key)}]`);
        continue;
      }
      let value: string | undefined;
      try {
        value = JSON.stringify(op.value);
      } catch (cause) {
        throw storageError(`Storage value for "${op.key}" is not JSON`, cause);
      }
      if (value === undefined) throw storageError(`Storage value for "${op.key}" is not JSON`);
      parts.push(`["s",${JSON.stringify(op.key)},${value}]`);
    }
    json = `[${parts.join(',')}]`;
  }
  const payload = Buffer.from(json, 'utf8');
  if (payload.length > 0xffffffff) throw storageError('Storage batch is larger than 4 GiB');
  const header = `${payload.length.toString(16).padStart(8, '0')} ${checksum(payload)}\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), payload, Buffer.from('\n', 'latin1')]);
}

/**
 * Decodes the records of a journal, stopping at the first one that is incomplete or fails
 * its checksum (a write torn by a crash). `validBytes` is where that torn tail starts.
 */
export function decodeJournal(bytes: Buffer): { records: JournalRecord[]; validBytes: number } {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const header = bytes.toString('latin1', offset, offset + HEADER_BYTES);
    const match = /^([0-9a-f]{8}) ([0-9a-f]{16})\n$/.exec(header);
    if (match === null) break;
    const length = Number.parseInt(match[1] as string, 16);
    const start = offset + HEADER_BYTES;
    const end = start + length;
    if (end + 1 > bytes.length || bytes[end] !== 0x0a) break;
    const payload = bytes.subarray(start, end);
    if (checksum(payload) !== match[2]) break;
    records.push(decodePayload(JSON.parse(payload.toString('utf8'))));
    offset = end + 1;
  }
  return { records, validBytes: offset };
}

function decodePayload(payload: unknown): JournalRecord {
  if (payload === 'clear') return 'clear';
  return (payload as Array<[string, string, unknown?]>).map(([type, key, value]) =>
    type === 'd' ? { type: 'delete', key } : { type: 'set', key, value },
  );
}

/** What a snapshot file holds besides the entries. */
export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT;
  version: 1;
  namespace: string;
  /** Which journal (`<name>.<generation>.journal`) continues this snapshot. */
  generation: number;
  /** Byte length and SHA-256 of the body, checked on load. */
  bytes: number;
  sha256: string;
}

/** Encodes a snapshot: a JSON header line, then the entries as a JSON array of pairs. */
export function encodeSnapshot(
  namespace: string,
  generation: number,
  entries: ReadonlyArray<readonly [string, unknown]>,
): Buffer {
  const body = Buffer.from(JSON.stringify(entries), 'utf8');
  const header: SnapshotHeader = {
    format: SNAPSHOT_FORMAT,
    version: 1,
    namespace,
    generation,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), body]);
}

/**
 * Decodes a snapshot. A snapshot only ever appears by rename after an fsync, so a bad one
 * means the disk lost data: that is reported, never silently treated as empty.
 */
export function decodeSnapshot(
  bytes: Buffer,
  path: string,
  namespace: string,
): { generation: number; entries: Array<[string, unknown]> } {
  const newline = bytes.indexOf(0x0a);
  let header: Partial<SnapshotHeader> | undefined;
  try {
    header = newline < 0 ? undefined : JSON.parse(bytes.toString('utf8', 0, newline));
  } catch {
    header = undefined;
  }
  const body = bytes.subarray(newline + 1);
  if (
    header?.format !== SNAPSHOT_FORMAT ||
    header.version !== 1 ||
    header.namespace !== namespace ||
    typeof header.generation !== 'number' ||
    header.bytes !== body.length ||
    header.sha256 !== createHash('sha256').update(body).digest('hex')
  ) {
    throw storageError(`Storage snapshot ${path} is corrupt`);
  }
  return {
    generation: header.generation,
    entries: JSON.parse(body.toString('utf8')) as Array<[string, unknown]>,
  };
}
