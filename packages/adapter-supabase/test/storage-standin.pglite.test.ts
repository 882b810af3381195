/**
 * Keeps the Storage stand-in honest against real storage-js (what `upload`, `download` and
 * `remove` send, and how storage-js surfaces the answers), with the `storage.objects` policies
 * of `sql/0003_syncline_sessions.sql` deciding under the caller's role and claims.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

let project: SupabaseStandIn;
const BUCKET = 'syncline-assets';
const hash = (c: string) => c.repeat(64);

beforeAll(async () => {
  project = await startSupabaseStandIn(await openSupabaseDatabase('pglite'));
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await project?.close();
  await project?.db.close();
});

it('upload without upsert refuses an existing object (409 Duplicate); with x-upsert it replaces it', async () => {
  const { supabase, userId } = await signedInClient(project, freshEmail('store'));
  const path = `${userId}/${hash('a')}`;
  const files = supabase.storage.from(BUCKET);
  expect((await files.upload(path, new Uint8Array([1, 2, 3]))).error).toBeNull();
  const again = await files.upload(path, new Uint8Array([4]));
  expect((again.error as { status?: number } | null)?.status).toBe(409);
  expect(again.error?.message).toBe('The resource already exists');
  expect((await files.upload(path, new Uint8Array([4, 5]), { upsert: true })).error).toBeNull();
  const read = await files.download(path);
  expect(new Uint8Array((await read.data?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(
    new Uint8Array([4, 5]),
  );
  const [row] = await project.db.admin.query<{ size: number; owner_id: string }>(
    `SELECT (metadata ->> 'size')::int AS size, owner_id FROM storage.objects WHERE name = $1`,
    [path],
  );
  expect(row).toEqual({ size: 2, owner_id: userId });
});

it("the policies decide: no write into another user's folder, no read or remove of another user's object, nothing for anon", async () => {
  const alice = await signedInClient(project, freshEmail('alice'));
  const bob = await signedInClient(project, freshEmail('bob'));
  const path = `${alice.userId}/${hash('b')}`;
  expect(
    (await alice.supabase.storage.from(BUCKET).upload(path, new Uint8Array([9]))).error,
  ).toBeNull();
  const intruder = await bob.supabase.storage
    .from(BUCKET)
    .upload(`${alice.userId}/${hash('c')}`, new Uint8Array([1]));
  expect((intruder.error as { status?: number } | null)?.status).toBe(403);
  const badName = await alice.supabase.storage
    .from(BUCKET)
    .upload(`${alice.userId}/not-a-hash`, new Uint8Array([1]));
  expect((badName.error as { status?: number } | null)?.status).toBe(403);
  const read = await bob.supabase.storage.from(BUCKET).download(path);
  expect((read.error as { status?: number } | null)?.status).toBe(404);
  // Storage answers a remove with the objects it removed: none that the policy hides.
  const removed = await bob.supabase.storage.from(BUCKET).remove([path]);
  expect(removed.data).toEqual([]);
  expect(project.storage.bytes.has(`${BUCKET}/${path}`)).toBe(true);
  const anon = project.createClient();
  expect(
    ((await anon.storage.from(BUCKET).download(path)).error as { status?: number })?.status,
  ).toBe(404);
  const anonUpload = await anon.storage.from(BUCKET).upload(`x/${hash('d')}`, new Uint8Array([1]));
  expect((anonUpload.error as { status?: number } | null)?.status).toBe(403);
  // The owner removes its object: row and bytes go.
  const own = await alice.supabase.storage.from(BUCKET).remove([path]);
  expect((own.data as Array<{ name: string }>).map((o) => o.name)).toEqual([path]);
  expect(project.storage.bytes.has(`${BUCKET}/${path}`)).toBe(false);
});

it('a bucket that does not exist answers 404 Bucket not found', async () => {
  const { supabase, userId } = await signedInClient(project, freshEmail('nobucket'));
  const answer = await supabase.storage
    .from('no-such-bucket')
    .upload(`${userId}/${hash('e')}`, new Uint8Array([1]));
  expect((answer.error as { status?: number } | null)?.status).toBe(404);
  expect(answer.error?.message).toBe('Bucket not found');
});
