/**
 * Uploads by id (`PUT /v1/assets/uploads/:uploadId`): the chunks of an asset go up before its
 * hash is known, the last one names it (`Asset-Sha256`) and the server checks it against the
 * bytes it holds before turning the upload into the user's copy. Over raw HTTP, each rule read
 * back afterwards.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Answer } from '../http-support.js';
import {
  asset,
  deliveryBody,
  download,
  LIMITS,
  type Session,
  type TargetingFixture,
  upload,
} from './fixture.js';

/** The default grace of an unused upload (`DEFAULT_TARGETING_POLICY.assetGraceMs`). */
const GRACE_MS = 60 * 60 * 1000;

/**
 * `PUT /v1/assets/uploads/:id` of bytes `[start, end)`; `total` is the size declared in
 * `Content-Range` (`'*'` while unknown), `sha256` the `Asset-Sha256` header of a last chunk.
 */
export function putById(
  f: TargetingFixture,
  who: Session,
  uploadId: string,
  bytes: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
  options: { total?: number | '*'; sha256?: string } = {},
): Promise<Answer> {
  const total = options.total ?? '*';
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-range': end === start ? `bytes */${total}` : `bytes ${start}-${end - 1}/${total}`,
  };
  if (options.sha256 !== undefined) headers['asset-sha256'] = options.sha256;
  return f.as(who, `/v1/assets/uploads/${uploadId}`, {
    method: 'PUT',
    headers,
    body: bytes.slice(start, end),
  });
}

function headById(f: TargetingFixture, who: Session, uploadId: string): Promise<Answer> {
  return f.as(who, `/v1/assets/uploads/${uploadId}`, { method: 'HEAD' });
}

function codeOf(answer: Answer): string | undefined {
  return (answer.body as { error?: { code?: string } }).error?.code;
}

/**
 * Starts an upload by id with the first 1,000 bytes of `file` and answers its id and the key of
 * the blob it wrote (the one key the store did not hold before).
 */
async function startUpload(
  f: TargetingFixture,
  who: Session,
  file: { bytes: Uint8Array<ArrayBuffer> },
): Promise<{ id: string; key: string }> {
  const keysBefore = new Set(await f.blobs.keys());
  const id = randomUUID();
  expect((await putById(f, who, id, file.bytes, 0, 1000)).status).toBe(308);
  const [key] = (await f.blobs.keys()).filter((k) => !keysBefore.has(k));
  if (key === undefined) throw new Error('no blob was written');
  return { id, key };
}

/** The suite, on the fixture of a runner file. */
export function uploadByIdSuite(fixture: () => TargetingFixture): void {
  it('the info answer says the server takes uploads by id', async () => {
    const info = await fixture().as(undefined, '/v1/info');
    expect(info.status).toBe(200);
    expect((info.body as { features?: unknown }).features).toEqual({ assetUploadsById: true });
  });

  it('uploads by id, the hash named on the last chunk; the copy is then an asset like any other', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const file = asset(3000, 81);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    const second = await putById(f, a, id, file.bytes, 1000, 2000);
    expect(second.status).toBe(308);
    expect(second.headers.get('upload-offset')).toBe('2000');
    const last = await putById(f, a, id, file.bytes, 2000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(last.body).toEqual({ sha256: file.sha256, size: 3000 });
    // The upload is over: its id is gone, the copy is there under its hash.
    expect((await headById(f, a, id)).status).toBe(404);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.status).toBe(200);
    expect(copy.headers.get('asset-complete')).toBe('1');
    expect(copy.headers.get('upload-offset')).toBe('3000');
    const sent = await f.as(a, '/v1/deliveries', {
      method: 'POST',
      json: deliveryBody(a, { assetHash: file.sha256 }),
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const read = await download(f, b, file.sha256);
    expect(read.status).toBe(200);
    expect(Buffer.from(read.bytes).equals(Buffer.from(file.bytes))).toBe(true);
  });

  it("the last chunk is answered once the blob's bytes are on disk", async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 94);
    const { id, key } = await startUpload(f, a, file);
    expect((await putById(f, a, id, file.bytes, 1000, 2000)).status).toBe(308);
    const last = await putById(f, a, id, file.bytes, 2000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    // Read as the answer arrived: a sync of every byte had completed before it was sent.
    expect(f.synced).toContainEqual({ key, size: 3000 });
    // A hash-addressed upload the same.
    const other = asset(2000, 95);
    const keys = new Set(await f.blobs.keys());
    const put = await upload(f, a, other);
    expect(put.status).toBe(201);
    const [otherKey] = (await f.blobs.keys()).filter((k) => !keys.has(k));
    expect(f.synced).toContainEqual({ key: otherKey, size: 2000 });
  });

  it('HEAD answers the offset of an upload by id, and the upload continues from it', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 82);
    const id = randomUUID();
    expect((await headById(f, a, id)).status).toBe(404);
    expect((await putById(f, a, id, file.bytes, 0, 1200, { total: 3000 })).status).toBe(308);
    const head = await headById(f, a, id);
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('1200');
    expect(head.headers.get('upload-length')).toBe('3000');
    // A chunk past the offset is refused with the offset to continue from.
    const skipped = await putById(f, a, id, file.bytes, 2000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(skipped.status).toBe(409);
    expect(codeOf(skipped)).toBe('offset_mismatch');
    expect(skipped.headers.get('upload-offset')).toBe('1200');
    // A declared size that changes is refused.
    const longer = await putById(f, a, id, file.bytes, 1200, 2000, { total: 4000 });
    expect(longer.status).toBe(409);
    expect(codeOf(longer)).toBe('length_mismatch');
    expect((await putById(f, a, id, file.bytes, 1200, 3000)).status).toBe(308);
    // The hash may come alone, in an empty last request at the end of the bytes.
    const named = await putById(f, a, id, file.bytes, 3000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(named.status, JSON.stringify(named.body)).toBe(201);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.headers.get('asset-complete')).toBe('1');
  });

  it('a last chunk without the hash, or a hash before the end, is a 400', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(2000, 83);
    const id = randomUUID();
    const unnamed = await putById(f, a, id, file.bytes, 0, 2000, { total: 2000 });
    expect(unnamed.status).toBe(400);
    const early = await putById(f, a, id, file.bytes, 0, 1000, { sha256: file.sha256 });
    expect(early.status).toBe(400);
    const badHash = await putById(f, a, id, file.bytes, 0, 2000, { total: 2000, sha256: 'abc' });
    expect(badHash.status).toBe(400);
    const badId = await f.as(a, '/v1/assets/uploads/not%20an%20id', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-0/*' },
      body: new Uint8Array(1),
    });
    expect(badId.status).toBe(400);
    expect((await headById(f, a, id)).status).toBe(404);
  });

  it('a wrong final hash is refused with a code and nothing of the upload is kept', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 84);
    const claimed = asset(3000, 85).sha256;
    const keysBefore = new Set(await f.blobs.keys());
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1500)).status).toBe(308);
    const last = await putById(f, a, id, file.bytes, 1500, 3000, { total: 3000, sha256: claimed });
    expect(last.status).toBe(422);
    expect(codeOf(last)).toBe('hash_mismatch');
    expect((await headById(f, a, id)).status).toBe(404);
    expect((await f.as(a, `/v1/assets/${claimed}`, { method: 'HEAD' })).status).toBe(404);
    expect((await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' })).status).toBe(404);
    expect((await f.blobs.keys()).filter((key) => !keysBefore.has(key))).toEqual([]);
  });

  it("another user's upload id answers as if it did not exist, and stays untouched", async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const stranger = await f.signIn(f.newUser());
    const file = asset(3000, 86);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    expect((await headById(f, stranger, id)).status).toBe(404);
    const cut = await putById(f, stranger, id, file.bytes, 1000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(cut.status).toBe(404);
    // The same id for the stranger is an upload of their own, apart from A's.
    const forged = file.bytes.slice();
    forged[10] = (forged[10] ?? 0) ^ 0xff;
    expect((await putById(f, stranger, id, forged, 0, 500)).status).toBe(308);
    expect((await headById(f, stranger, id)).headers.get('upload-offset')).toBe('500');
    expect((await headById(f, a, id)).headers.get('upload-offset')).toBe('1000');
    const last = await putById(f, a, id, file.bytes, 1000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect((await f.as(stranger, `/v1/assets/${file.sha256}`, { method: 'HEAD' })).status).toBe(
      404,
    );
  });

  it('a re-uploaded chunk that differs from the bytes held is refused', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 87);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    const forged = file.bytes.slice();
    forged[500] = (forged[500] ?? 0) ^ 0xff;
    const mismatch = await putById(f, a, id, forged, 0, 2000);
    expect(mismatch.status).toBe(409);
    expect(codeOf(mismatch)).toBe('chunk_mismatch');
    expect((await headById(f, a, id)).headers.get('upload-offset')).toBe('1000');
    // The same bytes again are fine (a retried chunk), and the upload completes intact.
    expect((await putById(f, a, id, file.bytes, 0, 2000)).status).toBe(308);
    const last = await putById(f, a, id, file.bytes, 2000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
  });

  it('size and per-user storage limits answer 413 with a message at the first chunk', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const big = asset(LIMITS.maxAssetBytes + 1, 88);
    const tooBig = await putById(f, a, randomUUID(), big.bytes, 0, 10, {
      total: LIMITS.maxAssetBytes + 1,
    });
    expect(tooBig.status).toBe(413);
    expect((tooBig.body as { error: { message: string } }).error.message).toMatch(/at most/);
    // A size not declared yet: the bytes themselves may not pass the limit.
    const undeclared = randomUUID();
    const past = await f.as(a, `/v1/assets/uploads/${undeclared}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${LIMITS.maxAssetBytes}-${LIMITS.maxAssetBytes}/*`,
      },
      body: new Uint8Array(1),
    });
    expect(past.status).toBe(413);
    const first = asset(LIMITS.maxAssetBytes, 89);
    const held = randomUUID();
    expect(
      (await putById(f, a, held, first.bytes, 0, 10, { total: LIMITS.maxAssetBytes })).status,
    ).toBe(308);
    const second = asset(LIMITS.maxUserStorageBytes - LIMITS.maxAssetBytes + 1, 90);
    const refused = randomUUID();
    const over = await putById(f, a, refused, second.bytes, 0, 10, {
      total: second.bytes.byteLength,
    });
    expect(over.status).toBe(413);
    expect((over.body as { error: { message: string } }).error.message).toMatch(/quota/);
    expect((await headById(f, a, refused)).status).toBe(404);
    // An upload of unknown size counts its first chunk against the quota.
    const unknown = randomUUID();
    const rest = LIMITS.maxUserStorageBytes - LIMITS.maxAssetBytes;
    const overUnknown = await putById(f, a, unknown, second.bytes, 0, rest + 1);
    expect(overUnknown.status).toBe(413);
    expect((await headById(f, a, unknown)).status).toBe(404);
  });

  it('an abandoned upload is swept after the grace period, its blob with it; a live one is not', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 91);
    const { id, key } = await startUpload(f, a, file);
    // Within the grace period a sweep keeps the upload and its bytes.
    await f.server.handler.sweep();
    expect((await headById(f, a, id)).headers.get('upload-offset')).toBe('1000');
    expect(await f.blobs.keys()).toContain(key);
    f.clock.now += GRACE_MS + 1;
    try {
      await f.server.handler.sweep();
    } finally {
      f.clock.now -= GRACE_MS + 1;
    }
    expect((await headById(f, a, id)).status).toBe(404);
    expect(await f.blobs.keys()).not.toContain(key);
  });

  it('an upload of an asset the user already holds is dropped, answered as complete', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 92);
    expect((await upload(f, a, file)).status).toBe(201);
    const keysBefore = new Set(await f.blobs.keys());
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    const last = await putById(f, a, id, file.bytes, 1000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect(last.body).toEqual({ sha256: file.sha256, size: 3000 });
    expect((await headById(f, a, id)).status).toBe(404);
    expect((await f.blobs.keys()).filter((key) => !keysBefore.has(key))).toEqual([]);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.headers.get('asset-complete')).toBe('1');
  });

  it('an upload by id replaces an unfinished hash-addressed upload of the same bytes', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 93);
    const keysBefore = new Set(await f.blobs.keys());
    const begun = await f.as(a, `/v1/assets/${file.sha256}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-999/3000' },
      body: file.bytes.slice(0, 1000),
    });
    expect(begun.status).toBe(308);
    const id = randomUUID();
    const last = await putById(f, a, id, file.bytes, 0, 3000, { total: 3000, sha256: file.sha256 });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.headers.get('asset-complete')).toBe('1');
    // One blob is left: the upload's; the unfinished copy's went.
    expect((await f.blobs.keys()).filter((key) => !keysBefore.has(key))).toHaveLength(1);
  });
}

/** The bytes the blob store holds under keys it did not hold in `before`. */
async function bytesHeld(f: TargetingFixture, before: Set<string>): Promise<number> {
  let total = 0;
  for (const key of await f.blobs.keys()) {
    if (!before.has(key)) total += await f.blobs.size(key);
  }
  return total;
}

/**
 * Sends `file` to the upload by id `id` from `from` to `to` in chunks of `step` bytes, of
 * undeclared size (the last names the size and the hash when `to` is the file's end); the
 * answer of the first chunk that is not a 308, or of the last one.
 */
async function sendById(
  f: TargetingFixture,
  who: Session,
  id: string,
  file: { bytes: Uint8Array<ArrayBuffer>; sha256: string },
  from: number,
  to: number,
  step: number,
): Promise<Answer> {
  let answer: Answer | undefined;
  for (let start = from; start < to; start += step) {
    const end = Math.min(to, start + step);
    const last = end === file.bytes.byteLength;
    answer = await putById(
      f,
      who,
      id,
      file.bytes,
      start,
      end,
      last ? { total: end, sha256: file.sha256 } : {},
    );
    if (answer.status !== 308) return answer;
  }
  return answer as Answer;
}

/** The quota suite: uploads by id of undeclared size count as they grow. */
export function uploadQuotaSuite(fixture: () => TargetingFixture): void {
  it('an upload of undeclared size that grows past the quota is refused 413, its bytes not kept; a freed quota takes it again', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const keysBefore = new Set(await f.blobs.keys());
    const step = 100_000;
    // 1.2 MB made an asset, then (after the grace period) 1.2 MB in progress.
    const first = asset(1_200_000, 101);
    const made = await sendById(f, a, randomUUID(), first, 0, 1_200_000, step);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    f.clock.now += GRACE_MS + 1;
    try {
      const second = asset(1_300_000, 102);
      expect((await sendById(f, a, randomUUID(), second, 0, 1_200_000, step)).status).toBe(308);
      // A third grows to 400 KB; its chunk to 900 KB would hold 3.3 MB under 3 MB.
      const third = asset(1_200_000, 103);
      const id = randomUUID();
      expect((await sendById(f, a, id, third, 0, 400_000, step)).status).toBe(308);
      const over = await putById(f, a, id, third.bytes, 400_000, 900_000);
      expect(over.status, JSON.stringify(over.body)).toBe(413);
      expect(codeOf(over)).toBe('too_large');
      expect((over.body as { error: { message: string } }).error.message).toMatch(/quota/);
      expect((await headById(f, a, id)).headers.get('upload-offset')).toBe('400000');
      expect(await bytesHeld(f, keysBefore)).toBeLessThanOrEqual(LIMITS.maxUserStorageBytes);
      // Within the quota, a declared upload by id and an upload by hash still go.
      const declared = asset(100_000, 104);
      const byId = await putById(f, a, randomUUID(), declared.bytes, 0, 100_000, {
        total: 100_000,
        sha256: declared.sha256,
      });
      expect(byId.status, JSON.stringify(byId.body)).toBe(201);
      const small = asset(50_000, 105);
      expect((await upload(f, a, small)).status).toBe(201);
      // The first asset released (unused past the grace period): the third goes on.
      const swept = await f.server.handler.sweep();
      expect(swept.releasedBlobKeys.length).toBeGreaterThan(0);
      const rest = await sendById(f, a, id, third, 400_000, 1_200_000, 500_000);
      expect(rest.status, JSON.stringify(rest.body)).toBe(201);
      expect(await bytesHeld(f, keysBefore)).toBeLessThanOrEqual(LIMITS.maxUserStorageBytes);
    } finally {
      f.clock.now -= GRACE_MS + 1;
    }
  });

  it('uploads of undeclared size growing in parallel hold no more than the quota', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const keysBefore = new Set(await f.blobs.keys());
    const step = 300_000;
    const uploads = [0, 1, 2, 3, 4].map((i) => ({
      id: randomUUID(),
      file: asset(1_500_000, 110 + i),
      refused: undefined as Answer | undefined,
    }));
    for (let start = 0; start < 1_500_000; start += step) {
      await Promise.all(
        uploads.map(async (u) => {
          if (u.refused !== undefined) return;
          const answer = await putById(f, a, u.id, u.file.bytes, start, start + step);
          if (answer.status !== 308) u.refused = answer;
        }),
      );
    }
    const refused = uploads.filter((u) => u.refused !== undefined);
    expect(refused.length).toBeGreaterThan(0);
    for (const u of refused) {
      expect(u.refused?.status, JSON.stringify(u.refused?.body)).toBe(413);
      expect(codeOf(u.refused as Answer)).toBe('too_large');
    }
    let offsets = 0;
    for (const u of uploads) {
      const head = await headById(f, a, u.id);
      if (head.status === 200) offsets += Number(head.headers.get('upload-offset'));
    }
    expect(offsets).toBeLessThanOrEqual(LIMITS.maxUserStorageBytes);
    expect(await bytesHeld(f, keysBefore)).toBeLessThanOrEqual(LIMITS.maxUserStorageBytes);
    // What the quota takes was taken: 3 MB in 300 KB chunks.
    expect(offsets).toBe(LIMITS.maxUserStorageBytes);
  });

  it("a user's uploads asked to grow at once are decided one at a time: exactly what fits goes", async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const targeting = f.store.targeting;
    if (targeting === undefined) throw new Error('the store has no targeting');
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const file = asset(1000, 120);
    for (const id of ids) {
      expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    }
    // 10 x 1,000 bytes held; two of them at 1 MB still fit 3 MB, a third does not.
    const outcomes = await Promise.all(
      ids.map((id) => targeting.growUploadById(a.userId, id, 1_000_000, LIMITS)),
    );
    expect(outcomes.filter((o) => o.type === 'ok')).toHaveLength(2);
    for (const refused of outcomes.filter((o) => o.type !== 'ok')) {
      expect(refused).toEqual({ type: 'too_large', message: expect.stringMatching(/quota/) });
    }
    // Uploads begun at once the same: three of 1 MB fit the quota of another user.
    const b = f.newUser();
    const begun = await Promise.all(
      Array.from({ length: 6 }, () =>
        targeting.beginUploadById(
          b,
          randomUUID(),
          { totalBytes: undefined, firstEnd: 1_000_000 },
          LIMITS,
        ),
      ),
    );
    expect(begun.filter((o) => o.type === 'ok')).toHaveLength(3);
  });
}
