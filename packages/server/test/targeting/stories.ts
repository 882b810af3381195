/**
 * The three stories of issue 12 at the HTTP level, against the real server: workspace assets
 * to every device, owner → member transfer on request, devices not logins.
 */
import { randomUUID } from 'node:crypto';
import type { Delivery, Transfer } from '@syncline/sync-core/protocol';
import { expect, it } from 'vitest';
import {
  asset,
  deliveryBody,
  download,
  eventually,
  openEventLog,
  putChunk,
  type Session,
  sha256Hex,
  type TargetingFixture,
  upload,
} from './fixture.js';

const HOUR = 60 * 60 * 1000;

/** Three active sessions A, B, C and a stale D of one user, and a second user's session E. */
async function household(f: TargetingFixture) {
  const user = f.newUser();
  const d = await f.signIn(user);
  // D's last heartbeat is 25 hours old when the others sign in: outside the 24 h window.
  f.clock.now += 25 * HOUR;
  const a = await f.signIn(user);
  const b = await f.signIn(user);
  const c = await f.signIn(user);
  const e = await f.signIn(f.newUser());
  return { user, a, b, c, d, e };
}

async function pendingIds(f: TargetingFixture, who: Session): Promise<string[]> {
  const answer = await f.as(who, '/v1/deliveries?pending=1');
  expect(answer.status).toBe(200);
  return (answer.body as { deliveries: Delivery[] }).deliveries.map((d) => d.id);
}

/** Runs `act` and returns the one blob key it created. */
export async function newBlob(f: TargetingFixture, act: () => Promise<void>): Promise<string> {
  const before = await f.blobs.keys();
  await act();
  const created = (await f.blobs.keys()).filter((key) => !before.includes(key));
  expect(created).toHaveLength(1);
  return created[0] as string;
}

/** The story tests. */
export function targetingStories(fixture: () => TargetingFixture): void {
  it('story 1: an asset reaches the other active sessions once, and its blob goes when they acknowledge', async () => {
    const f = fixture();
    const { a, b, c, d, e } = await household(f);
    const file = asset(300_000, 7);
    const blob = await newBlob(f, async () => {
      const uploaded = await upload(f, a, file);
      expect(uploaded.status).toBe(201);
      expect(uploaded.body).toEqual({ sha256: file.sha256, size: 300_000 });
    });

    const body = deliveryBody(a, {
      kind: 'asset',
      assetHash: file.sha256,
      payload: { name: 'p.png' },
    });
    const sent = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(sent.status).toBe(201);
    const delivery = (sent.body as { delivery: Delivery }).delivery;
    expect(delivery.targetSessionIds).toEqual([b.sessionId, c.sessionId].sort());
    // Sending again with the same id is the same delivery, not a second one.
    const again = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(again.status).toBe(200);
    expect((again.body as { delivery: Delivery }).delivery.id).toBe(body.id);

    expect(await pendingIds(f, b)).toEqual([body.id]);
    expect(await pendingIds(f, c)).toEqual([body.id]);
    expect(await pendingIds(f, a)).toEqual([]);
    expect(await pendingIds(f, e)).toEqual([]);

    // B reads the first part, "reloads", and resumes from where it stopped.
    const first = await download(f, b, file.sha256, 'bytes=0-99999');
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 0-99999/300000');
    const rest = await download(f, b, file.sha256, 'bytes=100000-');
    expect(rest.status).toBe(206);
    const joined = new Uint8Array([...first.bytes, ...rest.bytes]);
    expect(sha256Hex(joined)).toBe(file.sha256);
    const whole = await download(f, c, file.sha256);
    expect(whole.status).toBe(200);
    expect(sha256Hex(whole.bytes)).toBe(file.sha256);
    expect((await download(f, a, file.sha256)).status).toBe(200);
    expect((await download(f, e, file.sha256)).status).toBe(404);

    const ackB = await f.as(b, `/v1/deliveries/${body.id}/ack`, { method: 'POST' });
    expect(ackB.body).toEqual({ complete: false });
    // Acknowledged once: B's pending list no longer has it, even after a reload.
    expect(await pendingIds(f, b)).toEqual([]);
    expect(await f.blobs.keys()).toContain(blob);
    const ackC = await f.as(c, `/v1/deliveries/${body.id}/ack`, { method: 'POST', json: {} });
    expect(ackC.body).toEqual({ complete: true });
    // The stale D never blocked completion; the bytes are gone at once.
    expect(await f.blobs.keys()).not.toContain(blob);
    expect((await download(f, b, file.sha256)).status).toBe(404);

    const status = await f.as(a, `/v1/deliveries/${body.id}`);
    expect(status.status).toBe(200);
    expect((status.body as { status: unknown }).status).toEqual({
      targets: [b.sessionId, c.sessionId].sort(),
      acked: [b.sessionId, c.sessionId].sort(),
      complete: true,
      expired: false,
    });
    expect(await pendingIds(f, d)).toEqual([]);
    expect(f.logged).toEqual([]);
  });

  it('story 1: an upload whose connection breaks mid-chunk resumes from the bytes the server kept', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const file = asset(200_000, 21);
    const aborter = new AbortController();
    const sent = 65_536;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(file.bytes.slice(0, sent));
      },
    });
    const put = fetch(`${f.url}/v1/assets/${file.sha256}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${a.token}`,
        'content-type': 'application/octet-stream',
        'content-range': `bytes 0-${file.bytes.byteLength - 1}/${file.bytes.byteLength}`,
      },
      body,
      duplex: 'half',
      signal: aborter.signal,
    } as RequestInit);
    // While the chunk streams, nothing is recorded yet; then the connection breaks.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
    expect(during.headers.get('upload-offset')).toBe('0');
    aborter.abort();
    await put.catch(() => undefined);
    await eventually(async () => {
      const head = await f.as(a, `/v1/assets/${file.sha256}`, { method: 'HEAD' });
      expect(Number(head.headers.get('upload-offset'))).toBe(sent);
    });
    const rest = await putChunk(f, a, file.sha256, file.bytes, sent, file.bytes.byteLength);
    expect(rest.status).toBe(201);
  });

  it('story 1: a target that is revoked or goes stale stops being waited for; a later session never delays completion', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const c = await f.signIn(user);
    const d = await f.signIn(user);
    const first = deliveryBody(a);
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: first })).status).toBe(201);
    // C is signed out: once B and D acknowledge, nothing waits for C.
    expect((await f.as(a, `/v1/sessions/${c.sessionId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await f.as(b, `/v1/deliveries/${first.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: false,
    });
    expect((await f.as(d, `/v1/deliveries/${first.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: true,
    });

    const second = deliveryBody(a);
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: second })).status).toBe(201);
    expect((await f.as(b, `/v1/deliveries/${second.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: false,
    });
    // A session that appears now may receive it, and its ack does not complete it: D is waited for.
    const late = await f.signIn(user);
    expect(await pendingIds(f, late)).toEqual([second.id]);
    expect((await f.as(late, `/v1/deliveries/${second.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: false,
    });
    // D goes silent past the active window (A and B keep beating): the sweeper completes it.
    f.clock.now += 24 * HOUR + 1;
    for (const who of [a, b]) {
      await f.as(who, '/v1/sessions/heartbeat', {
        method: 'POST',
        json: { clientId: who.clientId, sessionId: who.sessionId },
      });
    }
    expect((await f.server.handler.sweep()).completedDeliveries).toBeGreaterThanOrEqual(1);
    const status = await f.as(a, `/v1/deliveries/${second.id}`);
    expect((status.body as { status: { complete: boolean } }).status.complete).toBe(true);
  });

  it("story 1: a re-login that replaces a device's session, a sign-out and a sign-out everywhere complete at once what waited only on the revoked sessions, and free its blob (no sweep)", async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const c = await f.signIn(user);
    const g = await f.signIn(user);
    // Sends an asset of its own to `target`; its id and blob key.
    const sendAsset = async (seed: number, target: Record<string, unknown>) => {
      const file = asset(1000, seed);
      const blob = await newBlob(f, async () => {
        expect((await upload(f, a, file)).status).toBe(201);
      });
      const body = deliveryBody(a, { kind: 'asset', assetHash: file.sha256, target });
      expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
      return { id: body.id as string, blob };
    };
    const complete = async (id: string) =>
      ((await f.as(a, `/v1/deliveries/${id}`)).body as { status: { complete: boolean } }).status
        .complete;
    const toB = await sendAsset(41, { type: 'sessions', ids: [b.sessionId] });
    const toC = await sendAsset(42, { type: 'sessions', ids: [c.sessionId] });
    const toAll = await sendAsset(43, { type: 'otherSessions' });

    // B's device signs in again: its new session replaces (revokes) the old one.
    await f.signIn(user, b.clientId);
    expect(await complete(toB.id)).toBe(true);
    expect(await f.blobs.keys()).not.toContain(toB.blob);
    // A signs C out.
    expect((await f.as(a, `/v1/sessions/${c.sessionId}`, { method: 'DELETE' })).status).toBe(204);
    expect(await complete(toC.id)).toBe(true);
    expect(await f.blobs.keys()).not.toContain(toC.blob);
    // G still owes the third: it stays, and so do its bytes.
    expect(await complete(toAll.id)).toBe(false);
    expect(await f.blobs.keys()).toContain(toAll.blob);
    // G signs out everywhere (A and the new B too): nobody is left to wait for.
    expect((await f.as(g, '/v1/sessions', { method: 'DELETE' })).status).toBe(204);
    expect(await f.blobs.keys()).not.toContain(toAll.blob);
    expect(await f.store.targeting?.deliveryStatus(a, toAll.id)).toMatchObject({
      status: { complete: true },
    });
  });

  it('story 1: targets acknowledging all at once complete the delivery exactly once', async () => {
    const f = fixture();
    const user = f.newUser();
    const sender = await f.signIn(user);
    const targets = [];
    for (let i = 0; i < 8; i++) targets.push(await f.signIn(user));
    for (let round = 0; round < 3; round++) {
      const body = deliveryBody(sender);
      expect((await f.as(sender, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(
        201,
      );
      const answers = await Promise.all(
        targets.map((who) => f.as(who, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })),
      );
      const completions = answers.filter((a) => (a.body as { complete: boolean }).complete);
      // Whichever finished last completed it; a racing one may also see it complete.
      expect(completions.length).toBeGreaterThanOrEqual(1);
      const status = await f.as(sender, `/v1/deliveries/${body.id}`);
      expect(status.body).toMatchObject({
        status: { complete: true, acked: targets.map((t) => t.sessionId).sort() },
      });
    }
  });

  it('story 1: sent while every other device is stale, a delivery waits for one that comes back', async () => {
    const f = fixture();
    const user = f.newUser();
    const phone = await f.signIn(user);
    f.clock.now += 25 * HOUR;
    const desktop = await f.signIn(user);
    const body = deliveryBody(desktop);
    const sent = await f.as(desktop, '/v1/deliveries', { method: 'POST', json: body });
    expect((sent.body as { delivery: Delivery }).delivery.targetSessionIds).toEqual([]);
    const status = await f.as(desktop, `/v1/deliveries/${body.id}`);
    expect((status.body as { status: { complete: boolean } }).status.complete).toBe(false);
    await f.as(phone, '/v1/sessions/heartbeat', {
      method: 'POST',
      json: { clientId: phone.clientId, sessionId: phone.sessionId },
    });
    expect(await pendingIds(f, phone)).toEqual([body.id]);
    expect((await f.as(phone, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: true,
    });
  });

  it('story 1: a delivery nobody acknowledges expires at its TTL on the server clock, and its blob is deleted', async () => {
    const f = fixture();
    const { a, b } = await household(f);
    const file = asset(1000, 8);
    const blob = await newBlob(f, async () => {
      expect((await upload(f, a, file, 1)).status).toBe(201);
    });
    const body = deliveryBody(a, { assetHash: file.sha256, ttlSeconds: 60 });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
    expect(await pendingIds(f, b)).toEqual([body.id]);
    expect(await f.blobs.keys()).toContain(blob);

    f.clock.now += 59_000;
    expect((await f.server.handler.sweep()).expiredDeliveries).toBe(0);
    expect(await pendingIds(f, b)).toEqual([body.id]);
    f.clock.now += 1_000;
    // Past the TTL it is gone for receivers even before a sweep writes it down.
    expect(await pendingIds(f, b)).toEqual([]);
    const report = await f.server.handler.sweep();
    expect(report.expiredDeliveries).toBe(1);
    expect(report.deletedBlobs).toBeGreaterThanOrEqual(1);
    expect(await f.blobs.keys()).not.toContain(blob);
    expect((await download(f, b, file.sha256)).status).toBe(404);
    const status = await f.as(a, `/v1/deliveries/${body.id}`);
    expect(
      (status.body as { status: { expired: boolean; complete: boolean } }).status,
    ).toMatchObject({
      expired: true,
      complete: false,
    });
    expect((status.body as { delivery: Delivery }).delivery.expired).toBe(true);
  });

  it('story 1: a new delivery pokes the receiving streams only, carrying the delivery as listed', async () => {
    const f = fixture();
    const { a, b, e } = await household(f);
    const logB = await openEventLog(f, b);
    const logA = await openEventLog(f, a);
    const logE = await openEventLog(f, e);
    try {
      // The delivery rides along once the server knows B's session is live: the sign-ins'
      // session events (heard late on PostgreSQL) make it forget, and B's next request
      // checks again. Each round B lists (and acknowledges) and A sends one more.
      let carried: unknown;
      let body = deliveryBody(a);
      for (let round = 0; round < 5 && carried === undefined; round++) {
        body = deliveryBody(a, { payload: { text: 'hi', round } });
        expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
        const id = body.id as string;
        await eventually(() =>
          expect(logB.events.some((x) => (x.data as { id?: string }).id === id)).toBe(true),
        );
        const listed = await f.as(b, '/v1/deliveries?pending=1');
        const delivery = (listed.body as { deliveries: Delivery[] }).deliveries.find(
          (x) => x.id === id,
        );
        expect(delivery?.payload).toEqual({ text: 'hi', round });
        const data = logB.events.find((x) => (x.data as { id?: string }).id === id)?.data as {
          delivery?: unknown;
        };
        if (data.delivery !== undefined) {
          expect(data).toEqual({ id, delivery });
          carried = data.delivery;
        }
        await f.as(b, `/v1/deliveries/${id}/ack`, { method: 'POST' });
      }
      expect(carried).toBeDefined();
      // A later event to A's own stream proves A's stream was open and did not get the delivery.
      const other = await f.signIn(a.userId);
      await eventually(() => expect(logA.events.map((x) => x.event)).toContain('session'));
      expect(logA.events.filter((x) => x.event === 'delivery')).toEqual([]);
      expect(logE.events).toEqual([]);
      expect(other.userId).toBe(a.userId);
    } finally {
      logA.close();
      logB.close();
      logE.close();
    }
  });

  it('story 1: a revoked session whose stream is still open hears only the id of a new delivery', async () => {
    const f = fixture();
    const { a, b } = await household(f);
    const logB = await openEventLog(f, b);
    try {
      expect(
        (await f.as(a, `/v1/sessions/${b.sessionId}`, { method: 'DELETE' })).status,
      ).toBeLessThan(300);
      const body = deliveryBody(a, { payload: { secret: 1 } });
      expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: body })).status).toBe(201);
      await eventually(() =>
        expect(logB.events).toContainEqual({ event: 'delivery', data: { id: body.id } }),
      );
      // Listing is what tells it: its session is signed out.
      expect((await f.as(b, '/v1/deliveries?pending=1')).status).toBe(401);
    } finally {
      logB.close();
    }
  });

  it('story 2: a member requests a file from an offline owner; it arrives with monotonic progress and completes', async () => {
    const f = fixture();
    const owner = f.newUser();
    const member = f.newUser();
    const scope = `workspace:${randomUUID().slice(0, 8)}`;
    f.members.set(scope, [owner, member]);
    const m = await f.signIn(member);
    const file = asset(250_000, 9);
    const logM = await openEventLog(f, m);
    try {
      const id = randomUUID();
      const created = await f.as(m, '/v1/transfers', {
        method: 'POST',
        json: {
          id,
          scope,
          assetHash: file.sha256,
          name: 'plan.pdf',
          size: 250_000,
          mimeType: 'application/pdf',
          from: { userId: owner },
        },
      });
      expect(created.status).toBe(201);
      expect((created.body as { transfer: Transfer }).transfer.state).toBe('pending');

      // The owner's device comes online later and finds the request waiting.
      const o = await f.signIn(owner);
      const pending = await f.as(o, '/v1/deliveries?pending=1');
      const [request] = (pending.body as { deliveries: Delivery[] }).deliveries;
      expect(request?.kind).toBe('syncline.transfer-request');
      expect(request?.payload).toMatchObject({
        transferId: id,
        assetHash: file.sha256,
        requesterUserId: member,
      });
      // Not complete yet: the member cannot read a partial upload.
      expect((await download(f, m, file.sha256)).status).toBe(404);

      const seen: Transfer[] = [];
      const size = file.bytes.byteLength;
      for (let start = 0; start < size; start += 100_000) {
        const end = Math.min(size, start + 100_000);
        const chunk = await f.as(o, `/v1/assets/${file.sha256}`, {
          method: 'PUT',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `bytes ${start}-${end - 1}/${size}`,
          },
          body: file.bytes.slice(start, end),
        });
        expect([308, 201]).toContain(chunk.status);
        seen.push(((await f.as(m, `/v1/transfers/${id}`)).body as { transfer: Transfer }).transfer);
      }
      const uploaded = seen;
      expect(uploaded.map((t) => t.uploadedBytes)).toEqual([100_000, 200_000, 250_000]);
      expect(uploaded.every((t) => t.state === 'in_progress')).toBe(true);

      const got = await download(f, m, file.sha256);
      expect(sha256Hex(got.bytes)).toBe(file.sha256);
      const half = await f.as(m, `/v1/transfers/${id}/progress`, {
        method: 'POST',
        json: { side: 'download', bytesDone: 125_000 },
      });
      expect((half.body as { transfer: Transfer }).transfer.downloadedBytes).toBe(125_000);
      const done = await f.as(m, `/v1/transfers/${id}/progress`, {
        method: 'POST',
        json: { side: 'download', bytesDone: 250_000, state: 'completed' },
      });
      expect(done.status).toBe(200);
      expect((done.body as { transfer: Transfer }).transfer.state).toBe('completed');
      // Completed: the holder's copy is no longer needed, its bytes are gone.
      expect((await download(f, m, file.sha256)).status).toBe(404);
      const ownerView = await f.as(o, '/v1/transfers');
      expect((ownerView.body as { transfers: Transfer[] }).transfers.map((t) => t.state)).toEqual([
        'completed',
      ]);
      await eventually(() =>
        expect(logM.events.filter((x) => x.event === 'transfer').length).toBeGreaterThanOrEqual(4),
      );
      // A final transfer never moves again.
      const late = await f.as(m, `/v1/transfers/${id}/progress`, {
        method: 'POST',
        json: { side: 'download', bytesDone: 1, state: 'failed', error: 'x' },
      });
      expect(late.status).toBe(409);
    } finally {
      logM.close();
    }
  });

  it('story 3: a re-login on one device replaces its session; sign-out of one device and of all', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const c = await f.signIn(user);
    const c2 = await f.signIn(user, c.clientId);
    const list = await f.as(a, '/v1/sessions');
    const sessions = (
      list.body as {
        sessions: Array<{ clientId: string; sessionId: string; active: boolean; label?: string }>;
      }
    ).sessions;
    expect(sessions.filter((s) => s.clientId === c.clientId).map((s) => s.sessionId)).toEqual([
      c2.sessionId,
    ]);
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => s.active && s.label?.startsWith('device'))).toBe(true);
    // The replaced session's token is signed out.
    const old = await f.as(c, '/v1/sessions');
    expect(old.status).toBe(401);
    expect((old.body as { error: { code: string } }).error.code).toBe('session_revoked');

    expect((await f.as(a, `/v1/sessions/${c2.sessionId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await f.as(c2, `/v1/pull?scope=user:${user}`)).status).toBe(401);
    const after = await f.as(a, '/v1/sessions');
    expect((after.body as { sessions: unknown[] }).sessions).toHaveLength(1);
    expect((await f.as(a, '/v1/sessions', { method: 'DELETE' })).status).toBe(204);
    const gone = await f.as(a, '/v1/sessions');
    expect((gone.body as { error: { code: string } }).error.code).toBe('session_revoked');
    // Signing in again on device C gives it a working session back.
    const c3 = await f.signIn(user, c.clientId);
    const back = await f.as(c3, '/v1/sessions');
    expect(
      (back.body as { sessions: Array<{ sessionId: string }> }).sessions.map((s) => s.sessionId),
    ).toEqual([c3.sessionId]);
  });
}
