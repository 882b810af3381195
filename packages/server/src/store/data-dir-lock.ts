/**
 * One process per PGlite data directory. PGlite is PostgreSQL in one process, with no
 * postmaster to keep a second one out: two servers on one `--data` directory each see only
 * their own writes, and after a restart acknowledged writes are gone. So the directory holds a
 * lock file naming its holder (`syncline.lock`: pid, host, start time); a second process is
 * refused with an error naming that pid. A lock whose process is gone (a `kill -9`, a crash)
 * is stale and taken over.
 *
 * The file is created with O_EXCL, so two processes never both create it. Taking over a stale
 * lock removes it first; two processes taking over the same stale lock at the same instant is
 * the one race left, and the re-read after writing catches most of it.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SyncError } from '@syncline/sync-core/protocol';

/** The name of the lock file inside the data directory. */
export const LOCK_FILE = 'syncline.lock';

/** What the lock file says about its holder. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder (a pid means nothing on another host). */
  host: string;
  /** When the holder took the lock (ISO 8601). */
  since: string;
  /** The holder's start time as Linux reports it (`/proc/<pid>/stat`), to tell a reused pid. */
  processStart?: string;
}

/** A held lock; `release()` removes the file if it is still ours. */
export interface DataDirLock {
  /** The lock file's path. */
  readonly path: string;
  /** Removes the lock file (when it still names this process). */
  release(): Promise<void>;
}

/**
 * Takes the lock of `dataDir` (creating the directory), or throws a `SyncError` (kind
 * `storage`, code `data_dir_locked`) naming the process that holds it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    ...startOf(process.pid),
  };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx', 0o644);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      if ((await readFile(path, 'utf8').catch(() => '')) !== text) continue; // lost a takeover race
      return {
        path,
        async release() {
          if ((await readFile(path, 'utf8').catch(() => '')) === text) {
            await unlink(path).catch(() => undefined);
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder !== undefined && isAlive(holder)) throw lockedError(dataDir, path, holder);
    // Stale (its process is gone) or unreadable (a crash while writing it): take it over.
    await unlink(path).catch(() => undefined);
  }
  throw lockedError(dataDir, path, await readHolder(path));
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  // A lock of another host cannot be checked from here: it stands until removed by hand.
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid lives; on Linux, a different start time means the pid was reused by another process.
  const now = startOf(holder.pid).processStart;
  return holder.processStart === undefined || now === undefined || now === holder.processStart;
}

function startOf(pid: number): { processStart?: string } {
  try {
    // Field 22 (starttime) of /proc/<pid>/stat; the command name (field 2) may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start === undefined ? {} : { processStart: start };
  } catch {
    return {};
  }
}

function lockedError(dataDir: string, path: string, holder: LockHolder | undefined): SyncError {
  const who =
    holder === undefined
      ? 'another process'
      : `process ${holder.pid} on ${holder.host} (since ${holder.since})`;
  return new SyncError(
    'storage',
    `the PGlite data directory ${dataDir} is in use by ${who}. Two servers on one directory would each see only their own writes; stop the other server or use another directory. If that process is really gone, delete ${path}.`,
    { code: 'data_dir_locked', details: { path, holder } },
  );
}
