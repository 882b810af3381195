/**
 * Keeps the Storage stand-in honest against real storage-js (what `upload`, `download` and
 * `remove` send, and how storage-js surfaces the answers), with the `storage.objects` policies
 * of `sql/0003_syncline_sessions.sql` deciding under the caller's role and claims.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { StorageStandIn } from './support/storage-standin.js';
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

/** A signed-in user's headers for raw calls, as storage-js and tus clients send them. */
async function rawCaller(prefix: string) {
  const { supabase, userId } = await signedInClient(project, freshEmail(prefix));
  const token = (await supabase.auth.getSession()).data.session?.access_token ?? '';
  const auth = { authorization: `Bearer ${token}`, apikey: project.anonKey };
  return { supabase, userId, auth };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const tus = { 'tus-resumable': '1.0.0' };

async function createUpload(
  auth: Record<string, string>,
  name: string,
  length: number,
  extra: Record<string, string> = {},
) {
  return fetch(`${project.url}/storage/v1/upload/resumable`, {
    method: 'POST',
    headers: {
      ...auth,
      ...tus,
      'upload-length': String(length),
      'upload-metadata': `bucketName ${b64(BUCKET)},objectName ${b64(name)},contentType ${b64('application/octet-stream')}`,
      ...extra,
    },
  });
}

const patch = (auth: Record<string, string>, url: string, offset: number, body: Uint8Array) =>
  fetch(url, {
    method: 'PATCH',
    headers: {
      ...auth,
      ...tus,
      'x-upsert': 'true',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: body as Uint8Array<ArrayBuffer>,
  });

const headOffset = async (auth: Record<string, string>, url: string) => {
  const answer = await fetch(url, { method: 'HEAD', headers: { ...auth, ...tus } });
  return { status: answer.status, offset: answer.headers.get('upload-offset') };
};

it('TUS: create, PATCH in parts, HEAD tells the offset, 409 on a wrong offset; the object appears only when complete', async () => {
  const { userId, auth } = await rawCaller('tus');
  const name = `${userId}/${hash('f')}`;
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
  const created = await createUpload(auth, name, bytes.length, { 'x-upsert': 'true' });
  expect(created.status).toBe(201);
  const url = created.headers.get('location') ?? '';
  expect(url).toMatch(new RegExp(`^${project.url}/storage/v1/upload/resumable/[A-Za-z0-9_-]+$`));
  // The id is base64url(bucket/object/version), as storage-api makes it.
  const id = Buffer.from(url.split('/').at(-1) ?? '', 'base64url').toString();
  expect(id.startsWith(`${BUCKET}/${name}/`)).toBe(true);
  expect(await headOffset(auth, url)).toEqual({ status: 200, offset: '0' });
  expect((await patch(auth, url, 0, bytes.subarray(0, 400))).status).toBe(204);
  const conflict = await patch(auth, url, 0, bytes.subarray(400));
  expect(conflict.status).toBe(409);
  expect(await conflict.text()).toBe('Upload-Offset conflict');
  expect(await headOffset(auth, url)).toEqual({ status: 200, offset: '400' });
  const objectRows = () =>
    project.db.admin.query('SELECT 1 FROM storage.objects WHERE name = $1', [name]);
  expect(await objectRows()).toHaveLength(0);
  const tooMuch = await patch(auth, url, 400, new Uint8Array(601));
  expect(tooMuch.status).toBe(413);
  const last = await patch(auth, url, 400, bytes.subarray(400));
  expect(last.status).toBe(204);
  expect(last.headers.get('upload-offset')).toBe('1000');
  expect(last.headers.get('tus-complete')).toBe('1');
  expect(await objectRows()).toHaveLength(1);
  expect(project.storage.bytes.get(`${BUCKET}/${name}`)).toEqual(bytes);
  // A finished upload cannot be terminated.
  const ended = await fetch(url, { method: 'DELETE', headers: { ...auth, ...tus } });
  expect(ended.status).toBe(400);
});

it('TUS: the policy is checked at create, the size limit too, and a missing Tus-Resumable or bad token is refused', async () => {
  const alice = await rawCaller('tusa');
  const bob = await rawCaller('tusb');
  // Bob cannot create an upload into Alice's folder: 403, nothing on disk or in the table.
  const intruder = await createUpload(bob.auth, `${alice.userId}/${hash('1')}`, 10);
  expect(intruder.status).toBe(403);
  expect(await intruder.text()).toBe('new row violates row-level security policy');
  // An existing object without x-upsert: the INSERT policy's unique violation, 409.
  const path = `${alice.userId}/${hash('2')}`;
  expect(
    (await alice.supabase.storage.from(BUCKET).upload(path, new Uint8Array([1]))).error,
  ).toBeNull();
  expect((await createUpload(alice.auth, path, 10)).status).toBe(409);
  expect((await createUpload(alice.auth, path, 10, { 'x-upsert': 'true' })).status).toBe(201);
  const huge = await createUpload(alice.auth, `${alice.userId}/${hash('3')}`, 50 * 1024 * 1024 + 1);
  expect(huge.status).toBe(413);
  const noVersion = await fetch(`${project.url}/storage/v1/upload/resumable`, {
    method: 'POST',
    headers: { ...alice.auth, 'upload-length': '1' },
  });
  expect(noVersion.status).toBe(412);
  const created = await createUpload(alice.auth, `${alice.userId}/${hash('4')}`, 4);
  const url = created.headers.get('location') ?? '';
  const forged = await fetch(url, {
    method: 'HEAD',
    headers: { ...tus, apikey: project.anonKey, authorization: 'Bearer not.a.jwt' },
  });
  expect(forged.status).toBe(403);
  // Bob may not write into Alice's upload either (the policy is checked on every PATCH).
  expect((await patch(bob.auth, url, 0, new Uint8Array([1, 2, 3, 4]))).status).toBe(403);
  expect(await headOffset(alice.auth, url)).toEqual({ status: 200, offset: '0' });
  // Terminated: gone.
  const ended = await fetch(url, { method: 'DELETE', headers: { ...alice.auth, ...tus } });
  expect(ended.status).toBe(204);
  expect((await headOffset(alice.auth, url)).status).toBe(404);
});

it('TUS: upload state is on disk, so a restarted Storage continues the same upload', async () => {
  const { userId, auth } = await rawCaller('tusdisk');
  const name = `${userId}/${hash('5')}`;
  const url = (await createUpload(auth, name, 6)).headers.get('location') ?? '';
  expect((await patch(auth, url, 0, new Uint8Array([1, 2, 3]))).status).toBe(204);
  const id = url.split('/').at(-1) ?? '';
  const dir = project.storage.tus.directory;
  const restarted = new StorageStandIn(project.db.api, project.db.admin, { tusDirectory: dir });
  const answer = await restarted.handle({
    method: 'HEAD',
    path: `/upload/resumable/${id}`,
    headers: { ...auth, ...tus },
    body: new Uint8Array(),
  });
  expect(answer.headers['upload-offset']).toBe('3');
});

it('a ranged download answers 206 with Content-Range; an unsatisfiable range 416', async () => {
  const { supabase, userId, auth } = await rawCaller('range');
  const path = `${userId}/${hash('6')}`;
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  expect((await supabase.storage.from(BUCKET).upload(path, bytes)).error).toBeNull();
  const url = `${project.url}/storage/v1/object/authenticated/${BUCKET}/${path}`;
  const part = await fetch(url, { headers: { ...auth, range: 'bytes=10-19' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe('bytes 10-19/100');
  expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
  const rest = await fetch(url, { headers: { ...auth, range: 'bytes=90-' } });
  expect(rest.headers.get('content-range')).toBe('bytes 90-99/100');
  expect(new Uint8Array(await rest.arrayBuffer())).toEqual(bytes.subarray(90));
  expect((await fetch(url, { headers: { ...auth, range: 'bytes=100-' } })).status).toBe(416);
  // The policies still decide: another user gets 404 for any range.
  const other = await rawCaller('range2');
  expect((await fetch(url, { headers: { ...other.auth, range: 'bytes=0-9' } })).status).toBe(404);
});
