/**
 * The chunks of one upload, taken in order by one process, are pipelined: a chunk that
 * continues the one before it looks nothing up (the process knows the copy from that chunk)
 * and its bytes are written while the offset of the one before is still being recorded; the
 * offsets are still recorded in order, by compare-and-set. Runs on PGlite, whose runner can
 * count and hold the statements.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  asset,
  deliveryBody,
  LIMITS,
  putChunk,
  type Session,
  sha256Hex,
  type TargetingFixture,
  upload,
} from './fixture.js';
import { putById } from './upload-by-id.js';

/** What the runner exposes of the statements the server runs. */
export interface StatementProbe {
  /** Lookups of one copy by user and hash (`ownCopy`) since the start. */
  copyLookups(): number;
  /** Lookups of one upload by id (`ownUploadById`) since the start. */
  uploadLookups(): number;
  /**
   * Holds every offset update (`advanceUpload`, `advanceUploadById`) until the returned release
   * is called.
   */
  holdAdvances(): () => void;
  /** Runs a statement on the server's database. */
  query(sql: string, params: unknown[]): Promise<unknown>;
  /** Statements and transactions the server ran since the start. */
  counts(): { statements: number; transactions: number };
  /** Offset updates (`advanceUpload`, `advanceUploadById`) the server ran since the start. */
  advances(): number;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** The suite, on the fixture and the runner's statement probe. */
export function uploadPipelineSuite(
  fixture: () => TargetingFixture,
  probe: () => StatementProbe,
): void {
  it('a chunk that continues the previous one in this process looks the copy up no more', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(90_000, 71);
    expect((await putChunk(f, a, file.sha256, file.bytes, 0, 30_000)).status).toBe(308);
    const before = probe().copyLookups();
    expect((await putChunk(f, a, file.sha256, file.bytes, 30_000, 60_000)).status).toBe(308);
    const last = await putChunk(f, a, file.sha256, file.bytes, 60_000, 90_000);
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(probe().copyLookups() - before).toBe(0);
    const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.headers.get('upload-offset')).toBe('90000');
    expect(head.headers.get('asset-complete')).toBe('1');
  });

  it("writes a chunk's bytes while the offset of the one before it is being recorded", async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(60_000, 72);
    const keysBefore = new Set(await f.blobs.keys());
    expect((await putChunk(f, a, file.sha256, file.bytes, 0, 20_000)).status).toBe(308);
    const [key] = (await f.blobs.keys()).filter((k) => !keysBefore.has(k));
    if (key === undefined) throw new Error('no blob was written');
    const release = probe().holdAdvances();
    let second: Promise<{ status: number }> | undefined;
    let third: Promise<{ status: number }> | undefined;
    try {
      second = putChunk(f, a, file.sha256, file.bytes, 20_000, 40_000);
      third = putChunk(f, a, file.sha256, file.bytes, 40_000, 60_000);
      // Both chunks' bytes land although no offset could be recorded meanwhile.
      await until(async () => (await f.blobs.size(key)) === 60_000, 'both chunks are written');
    } finally {
      release();
    }
    expect((await second)?.status).toBe(308);
    expect((await third)?.status).toBe(201);
    const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.headers.get('upload-offset')).toBe('60000');
    expect(head.headers.get('asset-complete')).toBe('1');
  });

  it('refuses a chunk whose predecessor was not recorded, naming the offset held', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(60_000, 73);
    expect((await putChunk(f, a, file.sha256, file.bytes, 0, 20_000)).status).toBe(308);
    const release = probe().holdAdvances();
    let second: Promise<{ status: number; headers: Headers }> | undefined;
    let third: Promise<{ status: number; headers: Headers; body: unknown }> | undefined;
    try {
      second = putChunk(f, a, file.sha256, file.bytes, 20_000, 40_000);
      third = putChunk(f, a, file.sha256, file.bytes, 40_000, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Meanwhile another process of the server moved the offset back (its own upload of the
      // copy failed half-way): the held compare-and-sets of both chunks must fail.
      await probe().query(
        'UPDATE syncline.assets SET received_bytes = 10000 WHERE user_id = $1 AND sha256 = $2',
        [a.userId, file.sha256],
      );
    } finally {
      release();
    }
    expect((await second)?.status).toBe(409);
    const refused = await third;
    expect(refused?.status, JSON.stringify(refused?.body)).toBe(409);
    expect(refused?.headers.get('upload-offset')).toBe('10000');
    // The upload goes on from the offset held, and the bytes verify.
    expect((await putChunk(f, a, file.sha256, file.bytes, 10_000, 40_000)).status).toBe(308);
    const last = await putChunk(f, a, file.sha256, file.bytes, 40_000, 60_000);
    expect(last.status, JSON.stringify(last.body)).toBe(201);
  });

  it('an upload by id is pipelined the same: no lookups after its first chunk, bytes written while offsets are recorded', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(90_000, 74);
    const id = randomUUID();
    const keysBefore = new Set(await f.blobs.keys());
    expect((await putById(f, a, id, file.bytes, 0, 30_000)).status).toBe(308);
    const [key] = (await f.blobs.keys()).filter((k) => !keysBefore.has(k));
    if (key === undefined) throw new Error('no blob was written');
    const before = probe().uploadLookups();
    const release = probe().holdAdvances();
    let second: Promise<{ status: number }> | undefined;
    let third: Promise<{ status: number; body: unknown }> | undefined;
    try {
      second = putById(f, a, id, file.bytes, 30_000, 60_000);
      third = putById(f, a, id, file.bytes, 60_000, 90_000, { total: 90_000, sha256: file.sha256 });
      await until(async () => (await f.blobs.size(key)) === 90_000, 'both chunks are written');
    } finally {
      release();
    }
    expect((await second)?.status).toBe(308);
    const last = await third;
    expect(last?.status, JSON.stringify(last?.body)).toBe(201);
    expect(probe().uploadLookups() - before).toBe(0);
    const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.headers.get('asset-complete')).toBe('1');
  });

  it('an empty last request by id finishes the upload only once the offset before it is recorded', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(40_000, 75);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 20_000)).status).toBe(308);
    const release = probe().holdAdvances();
    let second: Promise<{ status: number }> | undefined;
    let last: Promise<{ status: number; body: unknown }> | undefined;
    try {
      second = putById(f, a, id, file.bytes, 20_000, 40_000);
      last = putById(f, a, id, file.bytes, 40_000, 40_000, { total: 40_000, sha256: file.sha256 });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      release();
    }
    expect((await second)?.status).toBe(308);
    const named = await last;
    expect(named?.status, JSON.stringify(named?.body)).toBe(201);
    const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.headers.get('asset-complete')).toBe('1');
  });
}

/**
 * A single-process server (PGlite) keeps an upload by id's offset in its memory between the
 * chunks it takes in order, and records it about once a second and with the last chunk.
 */
export function keptOffsetSuite(
  fixture: () => TargetingFixture,
  probe: () => StatementProbe,
): void {
  const recordedOffset = async (who: Session, id: string) => {
    const rows = (await probe().query(
      'SELECT received_bytes FROM syncline.uploads_by_id WHERE user_id = $1 AND upload_id = $2',
      [who.userId, id],
    )) as Array<{ received_bytes: string | number }>;
    return Number(rows[0]?.received_bytes);
  };

  it('records no offset of chunks taken in order (the finish stands for it); HEAD answers what the process holds', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(40_000, 81);
    const id = randomUUID();
    const before = probe().advances();
    expect((await putById(f, a, id, file.bytes, 0, 10_000)).status).toBe(308);
    const second = await putById(f, a, id, file.bytes, 10_000, 20_000);
    expect(second.status).toBe(308);
    expect(second.headers.get('upload-offset')).toBe('20000');
    // Not in the database yet, but the process holds it and says so.
    expect(await recordedOffset(a, id)).toBe(0);
    const head = await f.as(a, `/v1/assets/uploads/${id}`, { method: 'HEAD' });
    expect(head.headers.get('upload-offset')).toBe('20000');
    expect((await putById(f, a, id, file.bytes, 20_000, 30_000)).status).toBe(308);
    const last = await putById(f, a, id, file.bytes, 30_000, 40_000, {
      total: 40_000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(probe().advances() - before).toBe(0);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.headers.get('asset-complete')).toBe('1');
  });

  it('an upload of undeclared size grows under the quota with no statement while the user has room', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(40_000, 80);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 10_000)).status).toBe(308);
    // Each chunk below goes past what the upload counted: the quota is asked each time, from
    // what this process holds in memory.
    const before = probe().counts();
    expect((await putById(f, a, id, file.bytes, 10_000, 20_000)).status).toBe(308);
    expect((await putById(f, a, id, file.bytes, 20_000, 30_000)).status).toBe(308);
    expect(probe().counts().statements - before.statements).toBe(0);
    const last = await putById(f, a, id, file.bytes, 30_000, 40_000, {
      total: 40_000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    // The finish alone.
    expect(probe().counts().statements - before.statements).toBe(1);
  });

  it('a chunk that does not continue the bytes held unrecorded has them recorded first, and is compared with them', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(30_000, 82);
    const id = randomUUID();
    const keysBefore = new Set(await f.blobs.keys());
    expect((await putById(f, a, id, file.bytes, 0, 10_000)).status).toBe(308);
    expect((await putById(f, a, id, file.bytes, 10_000, 20_000)).status).toBe(308);
    expect(await recordedOffset(a, id)).toBe(0);
    // A chunk sent again (a client that did not see the answers): compared with the bytes
    // held, as if every chunk's offset had been recorded; one that differs is refused.
    const forged = file.bytes.slice();
    forged[15_000] = (forged[15_000] ?? 0) ^ 0xff;
    const mismatch = await putById(f, a, id, forged, 0, 20_000);
    expect(mismatch.status).toBe(409);
    expect(mismatch.headers.get('upload-offset')).toBe('20000');
    expect(await recordedOffset(a, id)).toBe(20_000);
    const again = await putById(f, a, id, file.bytes, 0, 20_000);
    expect(again.status).toBe(308);
    expect(again.headers.get('upload-offset')).toBe('20000');
    const last = await putById(f, a, id, file.bytes, 20_000, 30_000, {
      total: 30_000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    // The blob holds the bytes once, in order.
    const [key] = (await f.blobs.keys()).filter((k) => !keysBefore.has(k));
    if (key === undefined) throw new Error('no blob was written');
    const held = new Uint8Array(
      await new Response(f.blobs.read(key, { start: 0, end: 30_000 })).arrayBuffer(),
    );
    expect(sha256Hex(held)).toBe(file.sha256);
    expect(await f.blobs.size(key)).toBe(30_000);
  });

  it('a last chunk whose offset another process moved meanwhile is refused with that offset, and the upload goes on from it', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 84);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    expect((await putById(f, a, id, file.bytes, 1000, 2000)).status).toBe(308);
    await probe().query(
      'UPDATE syncline.uploads_by_id SET received_bytes = 500 WHERE user_id = $1 AND upload_id = $2',
      [a.userId, id],
    );
    const named = { total: 3000, sha256: file.sha256 };
    const refused = await putById(f, a, id, file.bytes, 2000, 3000, named);
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.headers.get('upload-offset')).toBe('500');
    const last = await putById(f, a, id, file.bytes, 500, 3000, named);
    expect(last.status, JSON.stringify(last.body)).toBe(201);
  });

  it('records the offset again once a second has passed since the last recording', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(30_000, 83);
    const id = randomUUID();
    const before = probe().advances();
    expect((await putById(f, a, id, file.bytes, 0, 10_000)).status).toBe(308);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await putById(f, a, id, file.bytes, 10_000, 20_000)).status).toBe(308);
    expect(probe().advances() - before).toBe(1);
    expect(await recordedOffset(a, id)).toBe(20_000);
    const last = await putById(f, a, id, file.bytes, 20_000, 30_000, {
      total: 30_000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
  });
}

/** What a send of a delivery with an asset costs the database (the tail of every asset send). */
export function assetSendSuite(fixture: () => TargetingFixture, probe: () => StatementProbe): void {
  it('a send with an asset is one statement, no transaction; a repetition and a missing copy answer as before', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    await f.signIn(user);
    const file = asset(5000, 73);
    expect((await upload(f, a, file)).status).toBe(201);
    const body = deliveryBody(a, { assetHash: file.sha256 });
    const before = probe().counts();
    const sent = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const after = probe().counts();
    expect(after.statements - before.statements).toBe(1);
    expect(after.transactions - before.transactions).toBe(0);
    const sentBody = sent.body as { delivery: { id: string; targetSessionIds: string[] } };
    expect(sentBody.delivery.targetSessionIds).toHaveLength(1);
    // Sent again: the same delivery, also once the copy is gone (the asset was released).
    const again = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(again.status).toBe(200);
    expect((again.body as typeof sentBody).delivery.id).toBe(sentBody.delivery.id);
    await probe().query('DELETE FROM syncline.assets WHERE sha256 = $1', [file.sha256]);
    const repeated = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(repeated.status).toBe(200);
    expect((repeated.body as typeof sentBody).delivery.targetSessionIds).toEqual(
      sentBody.delivery.targetSessionIds,
    );
    const missing = await f.as(a, '/v1/deliveries', {
      method: 'POST',
      json: deliveryBody(a, { assetHash: file.sha256 }),
    });
    expect(missing.status).toBe(409);
    expect((missing.body as { error: { code: string } }).error.code).toBe('asset_missing');
  });

  it('the first chunk of an upload by id looks it up and creates it in two statements, no transaction; the quota still refuses', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 78);
    const id = randomUUID();
    // (The session's first request checks it is not revoked: not counted.)
    expect((await f.as(a, `/v1/assets/uploads/${id}`, { method: 'HEAD' })).status).toBe(404);
    const before = probe().counts();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    const after = probe().counts();
    expect(after.statements - before.statements).toBe(2);
    expect(after.transactions - before.transactions).toBe(0);
    // Over the quota at its first chunk: refused, nothing made.
    const over = randomUUID();
    const big = asset(10, 79);
    const refused = await putById(f, a, over, big.bytes, 0, 10, {
      total: LIMITS.maxUserStorageBytes,
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(413);
    expect((await f.as(a, `/v1/assets/uploads/${over}`, { method: 'HEAD' })).status).toBe(404);
    const last = await putById(f, a, id, file.bytes, 1000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
  });

  it('the last chunk of an upload by id records its end and finishes it in one statement, no transaction', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 74);
    const id = randomUUID();
    expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    expect((await putById(f, a, id, file.bytes, 1000, 2000)).status).toBe(308);
    // The finish stands for the chunk's own offset update.
    const before = probe().counts();
    const last = await putById(f, a, id, file.bytes, 2000, 3000, {
      total: 3000,
      sha256: file.sha256,
    });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    const after = probe().counts();
    expect(after.statements - before.statements).toBe(1);
    expect(after.transactions - before.transactions).toBe(0);
    const copy = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(copy.headers.get('asset-complete')).toBe('1');
  });

  it('the last chunk is checked against the quota with the final size, counting the upload itself once', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const keysBefore = new Set(await f.blobs.keys());
    // Three uploads of undeclared size: each counts only its first chunk when it begins.
    const smallSize = LIMITS.maxUserStorageBytes / 3 - 1000;
    const largeSize = LIMITS.maxAssetBytes - 1000;
    const uploads = [
      asset(smallSize, 75),
      asset(largeSize, 76),
      asset(LIMITS.maxUserStorageBytes - smallSize - largeSize + 1, 77),
    ].map((file) => ({ file, id: randomUUID() }));
    for (const { file, id } of uploads) {
      expect((await putById(f, a, id, file.bytes, 0, 1000)).status).toBe(308);
    }
    const finish = ({ file, id }: (typeof uploads)[number]) =>
      putById(f, a, id, file.bytes, 1000, file.bytes.length, {
        total: file.bytes.length,
        sha256: file.sha256,
      });
    const [small, large, over] = uploads as [
      (typeof uploads)[number],
      (typeof uploads)[number],
      (typeof uploads)[number],
    ];
    expect((await finish(small)).status).toBe(201);
    // Fits exactly when the upload finishing is counted once (its row is not counted too).
    const fitted = await finish(large);
    expect(fitted.status, JSON.stringify(fitted.body)).toBe(201);
    // One byte past the quota at its end: refused before it is written, the upload left at
    // the offset it held (the client sees the 413; the upload goes once the quota has room).
    const refused = await finish(over);
    expect(refused.status, JSON.stringify(refused.body)).toBe(413);
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/quota/);
    expect(refused.headers.get('upload-offset')).toBe('1000');
    const held = await f.as(a, `/v1/assets/uploads/${over.id}`, { method: 'HEAD' });
    expect(held.headers.get('upload-offset')).toBe('1000');
    expect((await f.as(a, `/v1/assets/${over.file.sha256}`, { method: 'HEAD' })).status).toBe(404);
    let bytes = 0;
    for (const key of (await f.blobs.keys()).filter((k) => !keysBefore.has(k))) {
      bytes += await f.blobs.size(key);
    }
    expect(bytes).toBe(smallSize + largeSize + 1000);
  });
}
