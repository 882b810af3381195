/**
 * The security rules of session targeting over raw HTTP, each followed by a read-back that
 * proves nothing changed.
 */
import { randomUUID } from 'node:crypto';
import type { Delivery, Transfer } from '@syncline/sync-core/protocol';
import { expect, it } from 'vitest';
import {
  asset,
  deliveryBody,
  download,
  LIMITS,
  putChunk,
  type Session,
  type TargetingFixture,
  upload,
} from './fixture.js';

const NOT_FOUND = { error: { code: 'not_found', message: 'no such delivery' } };

async function statusOf(f: TargetingFixture, who: Session, id: string) {
  const answer = await f.as(who, `/v1/deliveries/${id}`);
  expect(answer.status).toBe(200);
  return (answer.body as { status: { acked: string[]; complete: boolean; expired: boolean } })
    .status;
}

async function pending(f: TargetingFixture, who: Session): Promise<string[]> {
  const answer = await f.as(who, '/v1/deliveries?pending=1');
  return (answer.body as { deliveries: Delivery[] }).deliveries.map((d) => d.id);
}

/** The security tests. */
export function targetingSecurity(fixture: () => TargetingFixture): void {
  it('an ack from a non-target, the origin or another user changes nothing and answers as if the delivery did not exist', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const c = await f.signIn(user);
    const stranger = await f.signIn(f.newUser());
    const body = deliveryBody(a, { target: { type: 'sessions', ids: [b.sessionId] } });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
    const unknown = await f.as(stranger, `/v1/deliveries/${randomUUID()}/ack`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    for (const who of [stranger, a, c]) {
      const answer = await f.as(who, `/v1/deliveries/${body.id}/ack`, { method: 'POST' });
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual(unknown.body);
      expect(answer.body).toEqual(NOT_FOUND);
    }
    // Nobody else may read the status either.
    expect((await f.as(stranger, `/v1/deliveries/${body.id}`)).status).toBe(404);
    expect(await statusOf(f, a, body.id as string)).toEqual({
      targets: [b.sessionId],
      acked: [],
      complete: false,
      expired: false,
    });
    expect(await pending(f, b)).toEqual([body.id]);
    expect(await pending(f, c)).toEqual([]);
    // An ack body cannot name another session.
    const forged = await f.as(c, `/v1/deliveries/${body.id}/ack`, {
      method: 'POST',
      json: { sessionId: b.sessionId },
    });
    expect(forged.status).toBe(400);
    expect((await statusOf(f, a, body.id as string)).acked).toEqual([]);
  });

  it('a user targets only their own sessions or a scope they belong to', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const other = await f.signIn(f.newUser());
    const foreign = deliveryBody(a, { target: { type: 'sessions', ids: [other.sessionId] } });
    const refused = await f.as(a, '/v1/deliveries', { method: 'POST', json: foreign });
    expect(refused.status).toBe(403);
    expect((await f.as(a, `/v1/deliveries/${foreign.id}`)).status).toBe(404);
    expect(await pending(f, other)).toEqual([]);

    const scope = `workspace:${randomUUID().slice(0, 8)}`;
    f.members.set(scope, [other.userId]);
    const outsider = deliveryBody(a, { scope, target: { type: 'scopeMembers' } });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: outsider })).status).toBe(403);
    expect(await pending(f, other)).toEqual([]);
    // Another user's own scope is not writable either.
    const theirs = deliveryBody(a, { scope: `user:${other.userId}` });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: theirs })).status).toBe(403);
    expect(await pending(f, other)).toEqual([]);

    // As a member, the same scope reaches the other member's session.
    f.members.set(scope, [other.userId, a.userId]);
    const member = deliveryBody(a, { scope, target: { type: 'scopeMembers' } });
    const sent = await f.as(a, '/v1/deliveries', { method: 'POST', json: member });
    expect(sent.status).toBe(201);
    expect(await pending(f, other)).toEqual([member.id]);
    // An id another user already used is a conflict, and the first delivery is untouched.
    const reused = deliveryBody(other, { id: member.id });
    expect((await f.as(other, '/v1/deliveries', { method: 'POST', json: reused })).status).toBe(
      409,
    );
    expect((await statusOf(f, a, member.id as string)).acked).toEqual([]);
  });

  it('an expired delivery cannot be acknowledged back to life', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const body = deliveryBody(a, { ttlSeconds: 30 });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
    f.clock.now += 30_000;
    // Before any sweep and after it, the ack finds nothing.
    expect((await f.as(b, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })).body).toEqual(
      NOT_FOUND,
    );
    await f.server.handler.sweep();
    expect((await f.as(b, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })).status).toBe(404);
    expect(await statusOf(f, a, body.id as string)).toMatchObject({
      acked: [],
      complete: false,
      expired: true,
    });
  });

  it('asset bytes are readable only by the targets and the sender; a hash alone grants nothing', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const stranger = await f.signIn(f.newUser());
    const file = asset(5000, 11);
    expect((await upload(f, a, file)).status).toBe(201);
    // Uploaded but in no delivery yet: not even the user's other session reads it.
    expect((await download(f, b, file.sha256)).status).toBe(404);
    const body = deliveryBody(a, { assetHash: file.sha256 });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
    expect((await download(f, b, file.sha256)).status).toBe(200);
    expect((await download(f, stranger, file.sha256)).status).toBe(404);
    const head = await f.as(stranger, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    // Knowing the hash, the stranger cannot send it to itself without the bytes.
    const borrowed = deliveryBody(stranger, { assetHash: file.sha256 });
    const refused = await f.as(stranger, '/v1/deliveries', { method: 'POST', json: borrowed });
    expect(refused.status).toBe(409);
    expect((refused.body as { error: { code: string } }).error.code).toBe('asset_missing');
    expect((await download(f, stranger, file.sha256)).status).toBe(404);
  });

  it('a re-uploaded chunk that differs from the held bytes is refused, and a wrong hash drops the upload', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(3000, 12);
    expect((await putChunk(f, a, file.sha256, file.bytes, 0, 1000)).status).toBe(308);
    const forged = file.bytes.slice();
    forged[500] = (forged[500] ?? 0) ^ 0xff;
    const mismatch = await putChunk(f, a, file.sha256, forged, 0, 2000);
    expect(mismatch.status).toBe(409);
    expect((mismatch.body as { error: { code: string } }).error.code).toBe('chunk_mismatch');
    const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(head.headers.get('upload-offset')).toBe('1000');
    // A body longer than its Content-Range is refused, and nothing of it is kept.
    const longer = await f.as(a, `/v1/assets/${file.sha256}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': 'bytes 1000-1499/3000',
      },
      body: file.bytes.slice(1000, 1600),
    });
    expect(longer.status).toBe(400);
    const unchanged = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(unchanged.headers.get('upload-offset')).toBe('1000');
    // The same bytes again are fine (a retried chunk), and the upload completes intact.
    expect((await putChunk(f, a, file.sha256, file.bytes, 0, 2000)).status).toBe(308);
    const skipped = await putChunk(f, a, file.sha256, file.bytes, 2500, 3000);
    expect(skipped.status).toBe(409);
    expect(skipped.headers.get('upload-offset')).toBe('2000');
    expect((await putChunk(f, a, file.sha256, file.bytes, 2000, 3000)).status).toBe(201);
    const complete = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(complete.status).toBe(200);
    expect(complete.headers.get('asset-complete')).toBe('1');
    expect((await putChunk(f, a, file.sha256, forged, 0, 3000)).status).toBe(409);

    // Bytes that do not hash to the name: refused at the last chunk, nothing kept.
    const wrong = asset(2000, 13);
    const named = { bytes: wrong.bytes, sha256: asset(2000, 14).sha256 };
    const answer = await upload(f, a, named, 2);
    expect(answer.status).toBe(422);
    expect((await f.as(a, `/v1/assets/${named.sha256}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('asset size and per-user storage limits answer 413 with a message', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const big = asset(LIMITS.maxAssetBytes + 1, 15);
    const tooBig = await putChunk(f, a, big.sha256, big.bytes, 0, 10);
    expect(tooBig.status).toBe(413);
    expect((tooBig.body as { error: { message: string } }).error.message).toMatch(/at most/);
    const first = asset(LIMITS.maxAssetBytes, 16);
    expect((await putChunk(f, a, first.sha256, first.bytes, 0, 10)).status).toBe(308);
    const second = asset(LIMITS.maxUserStorageBytes - LIMITS.maxAssetBytes + 1, 17);
    const over = await putChunk(f, a, second.sha256, second.bytes, 0, 10);
    expect(over.status).toBe(413);
    expect((over.body as { error: { message: string } }).error.message).toMatch(/quota/);
    expect((await f.as(a, `/v1/assets/${second.sha256}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('sessions: a heartbeat only for the own session; another user’s session cannot be revoked', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const other = await f.signIn(f.newUser());
    const spoof = await f.as(a, '/v1/sessions/heartbeat', {
      method: 'POST',
      json: { clientId: other.clientId, sessionId: other.sessionId },
    });
    expect(spoof.status).toBe(403);
    expect((await f.as(a, `/v1/sessions/${other.sessionId}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    const theirs = await f.as(other, '/v1/sessions');
    expect((theirs.body as { sessions: Array<{ sessionId: string }> }).sessions).toEqual([
      expect.objectContaining({ sessionId: other.sessionId, clientId: other.clientId }),
    ]);
    const mine = await f.as(a, '/v1/sessions');
    expect(
      (mine.body as { sessions: Array<{ sessionId: string }> }).sessions.map((s) => s.sessionId),
    ).toEqual([a.sessionId]);
  });

  it('a heartbeat that passed the revoked check just before a revocation cannot bring the session back', async () => {
    const f = fixture();
    const userId = f.newUser();
    const a = await f.signIn(userId);
    const b = await f.signIn(userId);
    expect((await f.as(a, `/v1/sessions/${b.sessionId}`, { method: 'DELETE' })).status).toBe(204);
    // B's heartbeat was admitted before the revocation committed and reaches the store after it.
    const targeting = f.server.store.targeting;
    if (targeting === undefined) throw new Error('the fixture store has no targeting');
    const late = await targeting.heartbeat(
      { userId, sessionId: b.sessionId },
      { clientId: b.clientId },
    );
    expect(late).toBeNull();
    const listed = await targeting.listSessions(userId);
    expect(listed.find((s) => s.sessionId === b.sessionId)?.active ?? false).toBe(false);
    // And over HTTP the session stays signed out.
    const again = await f.as(b, '/v1/sessions/heartbeat', {
      method: 'POST',
      json: { clientId: b.clientId, sessionId: b.sessionId },
    });
    expect(again.status).toBe(401);
  });

  it('transfers: only members ask, only the parties read, only the requester completes', async () => {
    const f = fixture();
    const owner = await f.signIn(f.newUser());
    const member = await f.signIn(f.newUser());
    const stranger = await f.signIn(f.newUser());
    const scope = `workspace:${randomUUID().slice(0, 8)}`;
    f.members.set(scope, [owner.userId, member.userId]);
    const file = asset(100, 18);
    const request = (from: string) => ({
      id: randomUUID(),
      scope,
      assetHash: file.sha256,
      from: { userId: from },
    });
    const outsider = await f.as(stranger, '/v1/transfers', {
      method: 'POST',
      json: request(owner.userId),
    });
    expect(outsider.status).toBe(403);
    expect(await pending(f, owner)).toEqual([]);
    const notMember = await f.as(member, '/v1/transfers', {
      method: 'POST',
      json: request(stranger.userId),
    });
    expect(notMember.status).toBe(403);

    const body = request(owner.userId);
    const created = await f.as(member, '/v1/transfers', { method: 'POST', json: body });
    expect(created.status).toBe(201);
    expect((await f.as(stranger, `/v1/transfers/${body.id}`)).status).toBe(404);
    const progress = (who: Session, json: unknown) =>
      f.as(who, `/v1/transfers/${body.id}/progress`, { method: 'POST', json });
    expect((await progress(stranger, { side: 'upload', bytesDone: 1 })).status).toBe(404);
    expect((await progress(owner, { side: 'download', bytesDone: 1 })).status).toBe(403);
    expect(
      (await progress(owner, { side: 'upload', bytesDone: 1, state: 'completed' })).status,
    ).toBe(403);
    const read = await f.as(member, `/v1/transfers/${body.id}`);
    expect((read.body as { transfer: Transfer }).transfer).toMatchObject({
      state: 'pending',
      uploadedBytes: 0,
      downloadedBytes: 0,
    });
    // Uploaded by the owner, the bytes are readable by the member, not by the stranger.
    expect((await upload(f, owner, file, 1)).status).toBe(201);
    expect((await download(f, member, file.sha256)).status).toBe(200);
    expect((await download(f, stranger, file.sha256)).status).toBe(404);
  });

  it('malformed requests are 4xx with a message, never a 500', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const cases: Array<[string, RequestInit & { json?: unknown }]> = [
      ['/v1/deliveries', { method: 'POST', json: { id: 'x' } }],
      ['/v1/deliveries', { method: 'POST', json: deliveryBody(a, { ttlSeconds: 10 ** 9 }) }],
      ['/v1/deliveries?pending=0', {}],
      ['/v1/deliveries/not-a-uuid', {}],
      ['/v1/deliveries/%E0%A4%A/ack', { method: 'POST' }],
      ['/v1/assets/abc', { method: 'GET' }],
      [`/v1/assets/${'a'.repeat(64)}`, { method: 'PUT', body: 'x' }],
      [
        `/v1/assets/${'a'.repeat(64)}`,
        {
          method: 'PUT',
          body: 'x',
          headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 5-1/9' },
        },
      ],
      ['/v1/transfers', { method: 'POST', json: { id: randomUUID() } }],
      ['/v1/sessions/heartbeat', { method: 'POST', json: { clientId: 'c', sessionId: 's', x: 1 } }],
      ['/v1/sessions', { method: 'PUT' }],
    ];
    for (const [path, init] of cases) {
      const answer = await f.as(a, path, init);
      expect(answer.status, `${path} ${JSON.stringify(answer.body)}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, path).toBeLessThan(500);
      expect((answer.body as { error: { message: string } }).error.message.length).toBeGreaterThan(
        0,
      );
    }
    expect(f.logged).toEqual([]);
  });
}
