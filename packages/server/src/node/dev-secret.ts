/**
 * The development auth's signing secret, kept in the data directory so that restarting a dev
 * server does not invalidate every token (and strand clients with pending writes).
 *
 * @module
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The name of the secret's file inside the data directory. */
export const DEV_SECRET_FILE = 'syncline-dev-secret';

/**
 * Reads the dev secret of `dataDir`, creating it (32 random bytes, hex, mode 0600) the first
 * time. Two processes creating it at once agree: the file is created with O_EXCL and the loser
 * reads the winner's.
 */
export async function devSecretIn(dataDir: string): Promise<Uint8Array> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, DEV_SECRET_FILE);
  try {
    return parse(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = crypto.getRandomValues(new Uint8Array(32));
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(`${Buffer.from(secret).toString('hex')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parse(await readFile(path, 'utf8'), path);
  }
}

function parse(text: string, path: string): Uint8Array {
  const hex = text.trim();
  if (!/^(?:[0-9a-f]{2}){16,}$/.test(hex)) {
    throw new TypeError(
      `${path} is not a dev secret (expected at least 32 hex characters); delete it to get a new one`,
    );
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
