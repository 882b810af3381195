/**
 * Crash recovery of the file storage: torn journal tails at every byte, garbage, bad
 * checksums, leftovers of interrupted compactions, failing fsyncs, and a real process killed
 * with SIGKILL mid-write. In each case loading must give exactly the committed batches.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSyncError } from '@syncline/sync-core';
import { fileStorage } from '@syncline/sync-core/node';
import { afterAll, describe, expect, it } from 'vitest';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'syncline-crash-'));
  roots.push(directory);
  return directory;
}

async function filesIn(directory: string, suffix: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith(suffix)).sort();
}

async function onlyJournal(directory: string): Promise<string> {
  const journals = await filesIn(directory, '.journal');
  expect(journals).toHaveLength(1);
  return join(directory, journals[0] as string);
}

async function contents(directory: string, namespace = 'ns') {
  const storage = fileStorage({ directory });
  const entries = await storage.list(namespace, '');
  await storage.close?.();
  return entries;
}

const set = (key: string, value: unknown) => ({ type: 'set', key, value }) as const;
const del = (key: string) => ({ type: 'delete', key }) as const;

describe('fileStorage crash recovery', () => {
  it('a journal cut at any byte of the last record loads as exactly the batches before it', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory });
    await storage.write('ns', [set('a', 1), set('b', { deep: ['x'] })]);
    await storage.write('ns', [set('c', 3), del('a')]);
    await storage.close?.();
    const journal = await onlyJournal(directory);
    const committedBytes = (await stat(journal)).size;
    const committed = await contents(directory);
    expect(committed).toEqual([
      ['b', { deep: ['x'] }],
      ['c', 3],
    ]);

    const writer = fileStorage({ directory });
    await writer.write('ns', [set('d', 'torn'), del('b'), set('c', 'changed')]);
    await writer.close?.();
    const fullBytes = await readFile(journal);
    expect(fullBytes.length).toBeGreaterThan(committedBytes);

    for (let cut = committedBytes; cut < fullBytes.length; cut++) {
      await writeFile(journal, fullBytes.subarray(0, cut));
      expect(await contents(directory), `cut at byte ${cut}`).toEqual(committed);
      // Loading cut the torn tail off, so the journal ends at the last whole record.
      expect((await stat(journal)).size, `journal size after load, cut ${cut}`).toBe(
        committedBytes,
      );
    }

    // A write after recovery follows the whole records and survives the next load.
    const after = fileStorage({ directory });
    await after.write('ns', [set('e', 5)]);
    await after.close?.();
    expect(await contents(directory)).toEqual([...committed, ['e', 5]]);
  });

  it('ignores a record whose checksum does not match, and garbage after the last record', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory });
    await storage.write('ns', [set('a', 1)]);
    await storage.write('ns', [set('b', 'original')]);
    await storage.close?.();
    const journal = await onlyJournal(directory);
    const bytes = await readFile(journal);
    // Flip one byte inside the value of the last record: its checksum no longer matches.
    const at = bytes.lastIndexOf('original');
    bytes[at] = 'O'.charCodeAt(0);
    await writeFile(journal, bytes);
    expect(await contents(directory)).toEqual([['a', 1]]);

    await writeFile(
      journal,
      Buffer.concat([await readFile(journal), Buffer.from('0000ffff 0123')]),
    );
    expect(await contents(directory)).toEqual([['a', 1]]);
    const again = fileStorage({ directory });
    await again.write('ns', [set('c', 3)]);
    await again.close?.();
    expect(await contents(directory)).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
  });

  it('recovers from a compaction interrupted before its rename (stray temp snapshot and journal)', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory });
    await storage.write('ns', [set('a', 1), set('b', 2)]);
    await storage.close?.();
    const [journal] = await filesIn(directory, '.journal');
    const stem = (journal as string).split('.')[0] as string;
    // What a crash between "temp snapshot fsynced" / "next journal created" and the rename leaves.
    await writeFile(
      join(directory, `${stem}.snapshot.1234.tmp`),
      '{"format":"syncline-file-storage-snapshot","gen',
    );
    await writeFile(join(directory, `${stem}.1.journal`), '');
    expect(await contents(directory)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect((await readdir(directory)).sort()).toEqual([journal]);
  });

  it('recovers from a compaction interrupted after its rename (old journal still there)', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory, compactAfterBytes: 200 });
    await storage.write('ns', [set('a', 1)]);
    const [oldJournal] = await filesIn(directory, '.journal');
    const savedOld = join(directory, 'saved-old-journal');
    await copyFile(join(directory, oldJournal as string), savedOld);
    // A big write pushes the journal over the threshold: it compacts into generation 1.
    await storage.write('ns', [set('big', 'x'.repeat(500)), del('a')]);
    await storage.close?.();
    expect(await filesIn(directory, '.snapshot')).toHaveLength(1);
    expect(await filesIn(directory, '.journal')).not.toContain(oldJournal);
    // Put generation 0's journal back, as if the crash came before it was deleted.
    await copyFile(savedOld, join(directory, oldJournal as string));
    await rm(savedOld);
    expect(await contents(directory)).toEqual([['big', 'x'.repeat(500)]]);
    expect(await filesIn(directory, '.journal')).not.toContain(oldJournal);
  });

  it('reports a corrupt snapshot as a storage error instead of loading it as empty', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory, compactAfterBytes: 1 });
    await storage.write('ns', [set('a', 'value')]);
    await storage.close?.();
    const [snapshot] = await filesIn(directory, '.snapshot');
    const path = join(directory, snapshot as string);
    const bytes = await readFile(path);
    bytes[bytes.length - 5] = 'X'.charCodeAt(0);
    await writeFile(path, bytes);
    const error = await fileStorage({ directory })
      .get('ns', 'a')
      .catch((e: unknown) => e);
    expect(isSyncError(error) && error.kind).toBe('storage');
    expect((error as Error).message).toMatch(/corrupt/);
  });

  it('a write whose fsync fails rejects, and is cut off so it never reappears', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory });
    await storage.write('ns', [set('a', 1)]);
    const probe = await open(join(directory, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const original = proto.datasync;
    proto.datasync = function failOnce(this: unknown) {
      proto.datasync = original;
      return Promise.reject(Object.assign(new Error('no space left'), { code: 'ENOSPC' }));
    };
    try {
      const error = await storage.write('ns', [set('b', 2), del('a')]).catch((e: unknown) => e);
      expect(isSyncError(error) && error.kind).toBe('storage');
      expect(isSyncError(error) && error.code).toBe('quota_exceeded');
    } finally {
      proto.datasync = original;
    }
    expect(await storage.list('ns', '')).toEqual([['a', 1]]);
    await storage.write('ns', [set('c', 3)]);
    await storage.close?.();
    expect(await contents(directory)).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
  });

  it('a small write into a namespace of 100k entries appends one record and rewrites nothing', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory, compactAfterBytes: 1 });
    const ops = Array.from({ length: 100_000 }, (_, i) => set(`k/${i}`, { i }));
    await storage.write('big', ops);
    await storage.close?.();
    const [snapshot] = await filesIn(directory, '.snapshot');
    const snapshotPath = join(directory, snapshot as string);
    const before = await stat(snapshotPath);
    const journalBefore = (await stat(await onlyJournal(directory))).size;

    const reopened = fileStorage({ directory, compactAfterBytes: 1 });
    for (let i = 0; i < 20; i++) await reopened.write('big', [set(`small/${i}`, i)]);
    const after = await stat(snapshotPath);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    const journalAfter = (await stat(await onlyJournal(directory))).size;
    // 20 records of ~50 bytes: nowhere near the multi-megabyte namespace.
    expect(journalAfter - journalBefore).toBeLessThan(20 * 100);
    expect((await reopened.list('big', '')).length).toBe(100_020);
    await reopened.close?.();
  });

  it('keeps the journal bounded: repeated writes compact into one snapshot and one journal', async () => {
    const directory = await tempDir();
    const storage = fileStorage({ directory, compactAfterBytes: 4096 });
    for (let i = 0; i < 300; i++)
      await storage.write('ns', [set(`k${i % 10}`, 'v'.repeat(100) + i)]);
    await storage.close?.();
    expect(await filesIn(directory, '.snapshot')).toHaveLength(1);
    const journal = await onlyJournal(directory);
    expect((await stat(journal)).size).toBeLessThanOrEqual(4096 + 200);
    const entries = await contents(directory);
    expect(entries).toHaveLength(10);
    expect(entries[9]).toEqual(['k9', 'v'.repeat(100) + 299]);
  });
});

const crashWriter = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Runs the writer child until it has acknowledged `atLeast` batches, then SIGKILLs it. */
function runAndKill(
  directory: string,
  atLeast: number,
  compactAfterBytes: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', crashWriter, directory, String(compactAfterBytes)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let acked = -1;
    let buffered = '';
    let stderr = '';
    const target = atLeast + Math.floor(Math.random() * 40);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acked = Number(line);
      if (acked >= target) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`crash writer exited by itself: ${stderr}`));
    });
  });
}

describe('fileStorage under SIGKILL', () => {
  it('after each kill, every acknowledged batch is there and no batch is torn', async () => {
    const directory = await tempDir();
    let lastAcked = -1;
    for (let round = 0; round < 4; round++) {
      // A small compaction threshold makes kills land during compaction too.
      lastAcked = await runAndKill(directory, lastAcked + 30, 16 * 1024);
      const storage = fileStorage({ directory });
      const entries = new Map(await storage.list('crash', ''));
      await storage.close?.();
      const done = [...entries.keys()].filter((key) => key.startsWith('n/')).length;
      // Batches land in order: the ones on disk are 0..done-1, which covers every ack.
      expect(done).toBeGreaterThan(lastAcked);
      for (let i = 0; i < done; i++) {
        expect(entries.get(`n/${String(i).padStart(8, '0')}`)).toBe(i);
        const deletedBy = i + 3 < done && (i + 3) % 7 === 0;
        const present = Array.from({ length: 10 }, (_, k) => entries.has(`b/${i}/${k}`));
        expect(present, `batch ${i} of ${done}`).toEqual(Array(10).fill(!deletedBy));
      }
      expect(entries.has(`b/${done}/0`)).toBe(false);
    }
  }, 60_000);
});

describe('fileStorage options', () => {
  it('rejects a missing directory or a bad threshold with an invalid SyncError', () => {
    for (const options of [{}, { directory: '' }, { directory: '/tmp/x', compactAfterBytes: -1 }]) {
      let error: unknown;
      try {
        fileStorage(options as { directory: string });
      } catch (caught) {
        error = caught;
      }
      expect(isSyncError(error) && error.kind, JSON.stringify(options)).toBe('invalid');
    }
  });
});
