/**
 * Transfers on request on Supabase (issue 12, story 2: owner → member file transfer, on
 * request) through unmodified supabase-js against the stand-in project (RPC, Auth, Storage),
 * as the reference server's scenario (packages/server/test/targeting/stories.ts and
 * security.ts) runs it over HTTP: the owner's device is offline when the member asks, the
 * request waits, the owner comes online, the file arrives with monotonic progress on both sides
 * and a final `completed`; a file whose bytes do not match fails with a clear error; a stranger
 * can neither read nor move a transfer and learns nothing about it.
 */
import { randomUUID } from 'node:crypto';
import {
  type SyncClient,
  sha256Hex,
  type TransferProgress,
  type TransferTransport,
} from '@syncline/sync-core';
import type { Transfer } from '@syncline/sync-core/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SupabaseTransport } from '../src/index.js';
import { type DatabaseKind, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { movableClock } from './support/db-clock.js';
import { freshEmail } from './support/devices.js';
import { userIdOf } from './support/gotrue-standin.js';
import { heldOpen, whileHeld } from './support/held-request.js';
import { userClaims } from './support/request-context.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';
import {
  failure,
  fileOf,
  type TargetingSession,
  targetingDevices,
  uploadBytes,
} from './support/targeting-devices.js';

const HOUR = 60 * 60 * 1000;

/** Defines the suite for one database. */
export function transfersSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  let advance: (ms: number) => Promise<unknown>;
  const transports: SupabaseTransport[] = [];
  const clients: SyncClient[] = [];
  const { signIn, startDevice } = targetingDevices({
    project: () => project,
    transports,
    clients,
  });

  beforeAll(async () => {
    const url = adminUrl?.();
    project = await startSupabaseStandIn(
      await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url }),
    );
    advance = await movableClock(project.db.admin);
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    for (const t of transports) t.stop();
    await project?.close();
    await project?.db.close();
  });

  /** A fresh workspace scope whose members are the users of `emails`. */
  async function workspace(...emails: string[]): Promise<string> {
    const scope = `workspace:${randomUUID().slice(0, 8)}`;
    for (const email of emails) {
      await project.db.admin.query(
        'INSERT INTO syncline.scope_members (scope, user_id) VALUES ($1, $2)',
        [scope, userIdOf(email)],
      );
    }
    return scope;
  }
  const transfersOf = (who: TargetingSession): TransferTransport => {
    const transfers = who.transport.transfers;
    if (transfers === undefined) throw new Error('no transfers part');
    return transfers;
  };
  const objectRows = async (name: string) =>
    (await project.db.admin.query('SELECT 1 FROM storage.objects WHERE name = $1', [name])).length;
  const transferRow = async (id: string) =>
    (
      await project.db.admin.query<{ state: string; uploaded_bytes: number }>(
        'SELECT state, uploaded_bytes::integer AS uploaded_bytes FROM syncline.transfers WHERE id = $1',
        [id],
      )
    )[0];

  it.runIf(kind() === 'postgres')(
    "the holder's removal racing a new request for its object: the removal waits for the request, then keeps the object the transfer references",
    async () => {
      const ownerEmail = freshEmail('owner-race');
      const memberEmail = freshEmail('member-race');
      const scope = await workspace(ownerEmail, memberEmail);
      const o = await signIn(ownerEmail);
      const m = await signIn(memberEmail);
      // The owner's object, which nothing references (a clean-up of its user listed it).
      const sha256 = await uploadBytes(o, fileOf(1800, 31));
      const object = `${o.userId}/${sha256}`;
      const id = randomUUID();
      // The member's request, as PostgREST runs it, written and not committed yet.
      const created = heldOpen(project.db.admin, userClaims(m.userId, m.sessionId), async (tx) => {
        await tx.query(
          `SELECT public.syncline_transfer_create(id => $1, scope => $2, asset_hash => $3,
                                                  from_user_id => $4)`,
          [id, scope, sha256, o.userId],
        );
      });
      await created.inside;
      // The owner's device removes the object meanwhile; its DELETE starts before the request
      // commits. It waits for the request and then sees the transfer.
      const removal = o.supabase.storage.from('syncline-assets').remove([object]);
      const first = await whileHeld(project.db.admin, removal, created.commit);
      await created.result;
      const removed = await removal;
      expect(removed.error).toBeNull();
      expect(removed.data).toEqual([]);
      expect(await objectRows(object)).toBe(1);
      expect(first).toBe('waited');
      expect((await transferRow(id))?.state).toBe('pending');
      // The member can read the holder's copy.
      expect(await m.transport.assets?.probe?.(sha256)).toMatchObject({ complete: true });
    },
  );

  it('story 2 over the RPC: a member asks an owner who never signed in; the request waits, the file arrives, progress only grows, and it completes', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const m = await signIn(memberEmail);
    const file = fileOf(250_000, 9);
    const sha256 = sha256Hex(file);
    const request = {
      id: randomUUID(),
      scope,
      assetHash: sha256,
      name: 'plan.pdf',
      size: 250_000,
      mimeType: 'application/pdf',
      from: { userId: userIdOf(ownerEmail) },
    };
    const created = await transfersOf(m).create(request);
    expect(created).toMatchObject({
      id: request.id,
      state: 'pending',
      requesterSessionId: m.sessionId,
      requesterUserId: m.userId,
      holderUserId: userIdOf(ownerEmail),
      uploadedBytes: 0,
      downloadedBytes: 0,
      totalBytes: 250_000,
      name: 'plan.pdf',
    });
    // Asking again with the same id is the same transfer.
    expect(await transfersOf(m).create(request)).toEqual(created);
    // Nothing to read yet.
    expect(await m.transport.assets?.probe?.(sha256)).toEqual({ offset: 0, complete: false });

    // The owner's device comes online later and finds the request waiting.
    const o = await signIn(ownerEmail);
    const [delivery, ...more] = await o.transport.deliveries.pending();
    expect(more).toEqual([]);
    expect(delivery?.kind).toBe('syncline.transfer-request');
    expect(delivery?.payload).toEqual({
      transferId: request.id,
      assetHash: sha256,
      requesterUserId: m.userId,
      name: 'plan.pdf',
      size: 250_000,
      mimeType: 'application/pdf',
    });
    expect(await m.transport.deliveries.pending()).toEqual([]);

    const seen: Transfer[] = [await transfersOf(m).get(request.id)];
    await uploadBytes(o, file);
    const reported = await transfersOf(o).progress({
      id: request.id,
      side: 'upload',
      bytesDone: 250_000,
      state: 'in_progress',
    });
    expect(reported).toMatchObject({ state: 'in_progress', uploadedBytes: 250_000 });
    seen.push(await transfersOf(m).get(request.id));
    expect(await m.transport.assets?.probe?.(sha256)).toEqual({
      offset: 250_000,
      length: 250_000,
      complete: true,
    });
    const first = await m.transport.assets?.download({ sha256, start: 0, end: 125_000 });
    seen.push(
      await transfersOf(m).progress({ id: request.id, side: 'download', bytesDone: 125_000 }),
    );
    const rest = await m.transport.assets?.download({ sha256, start: 125_000 });
    expect(sha256Hex(new Uint8Array([...(first ?? []), ...(rest ?? [])]))).toBe(sha256);
    // A late report of fewer bytes never moves progress back.
    seen.push(
      await transfersOf(m).progress({ id: request.id, side: 'download', bytesDone: 100_000 }),
    );
    const done = await transfersOf(m).progress({
      id: request.id,
      side: 'download',
      bytesDone: 250_000,
      state: 'completed',
    });
    seen.push(done);
    expect(seen.map((t) => [t.state, t.uploadedBytes, t.downloadedBytes])).toEqual([
      ['pending', 0, 0],
      ['in_progress', 250_000, 0],
      ['in_progress', 250_000, 125_000],
      ['in_progress', 250_000, 125_000],
      ['completed', 250_000, 250_000],
    ]);
    // Completed: nothing needs the owner's object any more; the requester removed it.
    expect(await objectRows(`${o.userId}/${sha256}`)).toBe(0);
    expect(project.storage.bytes.has(`syncline-assets/${o.userId}/${sha256}`)).toBe(false);
    expect((await transfersOf(o).list()).map((t) => [t.id, t.state])).toEqual([
      [request.id, 'completed'],
    ]);
    // A final transfer never moves again.
    const late = await failure(
      transfersOf(m).progress({
        id: request.id,
        side: 'download',
        bytesDone: 1,
        state: 'failed',
        error: 'x',
      }),
    );
    expect([late?.kind, late?.status, late?.code]).toEqual(['conflict', 409, 'transfer_final']);
    expect(await o.transport.deliveries.ack(delivery?.id ?? '')).toEqual({ complete: true });
  });

  it("the holder's upload moves the transfer per 6 MB part: the requester sees in_progress grow before the last byte", async () => {
    const MB = 1024 * 1024;
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const m = await signIn(memberEmail);
    const o = await signIn(ownerEmail);
    const file = fileOf(13 * MB, 3);
    const sha256 = sha256Hex(file);
    const id = randomUUID();
    await transfersOf(m).create({ id, scope, assetHash: sha256, from: { userId: o.userId } });
    const seen: [string, number, number][] = [];
    // The client's 4 MB chunks: parts of 6, 6 and 1 MB reach Storage.
    for (let at = 0; at < file.length; at += 4 * MB) {
      const chunk = file.subarray(at, Math.min(file.length, at + 4 * MB));
      await o.transport.assets?.uploadChunk({ sha256, offset: at, totalSize: file.length, chunk });
      const t = await transfersOf(m).get(id);
      seen.push([t.state, t.uploadedBytes, t.totalBytes]);
    }
    expect(seen).toEqual([
      ['pending', 0, 0],
      ['in_progress', 6 * MB, 13 * MB],
      ['in_progress', 12 * MB, 13 * MB],
      ['in_progress', 13 * MB, 13 * MB],
    ]);
    // An upload no transfer waits for reports its first part only, and moves nothing.
    const other = fileOf(7 * MB, 4);
    await uploadBytes(o, other, 4 * MB);
    expect((await transfersOf(m).get(id)).uploadedBytes).toBe(13 * MB);
  }, 60_000);

  it('story 2 through sync clients: the owner is offline when asked; once online it serves the file, both sides see progress grow and end completed', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const file = fileOf(300_000, 21);
    const sha256 = sha256Hex(file);
    const memberSaw: TransferProgress[] = [];
    const member = await startDevice(memberEmail, (client) =>
      client.on('transfer', (p) => memberSaw.push(p)),
    );
    const asked = await member.client.assets.request(sha256, {
      from: userIdOf(ownerEmail),
      scope,
      name: 'scan.tiff',
      size: file.length,
    });
    expect(asked.state).toBe('pending');
    // Several polls later the request still waits: no device of the owner is there.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await transfersOf(member).get(asked.id)).state).toBe('pending');

    const ownerSaw: TransferProgress[] = [];
    const served: string[] = [];
    const owner = await startDevice(ownerEmail, (client) => {
      client.on('transfer', (p) => ownerSaw.push(p));
      client.assets.provide((hash) => {
        served.push(hash);
        return hash === sha256 ? file : undefined;
      });
    });
    const final = (saw: TransferProgress[]) => saw.filter((p) => p.id === asked.id).at(-1)?.state;
    await expect
      .poll(() => [final(memberSaw), final(ownerSaw)], { timeout: 60_000 })
      .toEqual(['completed', 'completed'])
      .catch((error: Error) => {
        throw new Error(
          `${error.message}\nmember: [${member.trouble.join('; ')}]\nowner: [${owner.trouble.join('; ')}]`,
        );
      });
    expect(served).toEqual([sha256]);
    const received = await member.client.assets.get(sha256);
    expect(received?.name).toBe('scan.tiff');
    expect(sha256Hex((await received?.bytes()) ?? new Uint8Array())).toBe(sha256);
    for (const [saw, direction] of [
      [memberSaw, 'download'],
      [ownerSaw, 'upload'],
    ] as const) {
      const mine = saw.filter((p) => p.id === asked.id && p.direction === direction);
      const bytes = mine.map((p) => p.bytesDone);
      expect(bytes).toEqual([...bytes].sort((x, y) => x - y));
      expect(mine.at(-1)).toMatchObject({ state: 'completed', bytesDone: file.length });
      expect(mine.some((p) => p.state === 'in_progress')).toBe(true);
    }
    // Both users read the same final state from the database.
    for (const who of [member, owner]) {
      expect(await transfersOf(who).get(asked.id)).toMatchObject({
        state: 'completed',
        uploadedBytes: file.length,
        downloadedBytes: file.length,
        totalBytes: file.length,
      });
    }
    await expect.poll(() => objectRows(`${owner.userId}/${sha256}`)).toBe(0);
  }, 120_000);

  it('with Realtime, an online owner hears the request at once and the member hears the upload at once (no poll runs)', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const file = fileOf(20_000, 33);
    const sha256 = sha256Hex(file);
    const memberSaw: TransferProgress[] = [];
    const owner = await startDevice(
      ownerEmail,
      (client) => client.assets.provide((hash) => (hash === sha256 ? file : undefined)),
      true,
    );
    const member = await startDevice(
      memberEmail,
      (client) => client.on('transfer', (p) => memberSaw.push(p)),
      true,
    );
    // Both have joined their hint channel: the request cannot be found by a sign-in catch-up.
    const joined = (userId: string) =>
      project.realtime.joins.filter((j) => j.topic === `syncline-user:${userId}` && j.ok).length;
    await expect
      .poll(() => [joined(owner.userId), joined(member.userId)], { timeout: 30_000 })
      .toEqual([1, 1]);
    const asked = await member.client.assets.request(sha256, {
      from: owner.userId,
      scope,
      size: file.length,
    });
    await expect
      .poll(() => memberSaw.filter((p) => p.id === asked.id).at(-1)?.state, { timeout: 30_000 })
      .toBe('completed')
      .catch((error: Error) => {
        throw new Error(
          `${error.message}\nmember: [${member.trouble.join('; ')}]\nowner: [${owner.trouble.join('; ')}]`,
        );
      });
    expect((await transfersOf(owner).get(asked.id)).state).toBe('completed');
    // A stranger cannot join another user's hint channel.
    const stranger = await signIn(freshEmail('stranger'));
    const refused = stranger.supabase.channel(`syncline-user:${owner.userId}`, {
      config: { private: true },
    });
    await stranger.supabase.realtime.setAuth();
    const status = await new Promise<string>((resolve) =>
      refused.subscribe((s) => {
        if (s !== 'SUBSCRIBED' && s !== 'CHANNEL_ERROR') return;
        resolve(s);
      }),
    );
    expect(status).toBe('CHANNEL_ERROR');
    await stranger.supabase.removeChannel(refused);
  }, 120_000);

  it('bytes that do not match the SHA-256 are fetched again, then the transfer fails with a clear error both sides read', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const file = fileOf(40_000, 5);
    const sha256 = sha256Hex(file);
    const member = await startDevice(memberEmail);
    const asked = await member.client.assets.request(sha256, { from: userIdOf(ownerEmail), scope });
    // The owner uploads the right bytes, then Storage hands out other bytes of the same size.
    const o = await signIn(ownerEmail);
    await uploadBytes(o, file);
    const stored = `syncline-assets/${o.userId}/${sha256}`;
    const corrupted = file.slice();
    corrupted[17] = (corrupted[17] ?? 0) ^ 0xff;
    project.storage.bytes.set(stored, corrupted);
    await transfersOf(o).progress({ id: asked.id, side: 'upload', bytesDone: file.length });

    await expect
      .poll(async () => (await transfersOf(o).get(asked.id)).state, { timeout: 60_000 })
      .toBe('failed');
    const failed = await transfersOf(o).get(asked.id);
    expect(failed.error).toMatch(/did not match its SHA-256 in 3 attempts/);
    expect((await transfersOf(member).get(asked.id)).error).toBe(failed.error);
    expect(member.trouble.some((t) => t.includes('did not match its SHA-256'))).toBe(true);
    expect(await member.client.assets.get(sha256)).toBeUndefined();
    // Failed is final, and the object nothing needs any more was removed.
    const again = await failure(
      transfersOf(o).progress({ id: asked.id, side: 'upload', bytesDone: file.length }),
    );
    expect(again?.code).toBe('transfer_final');
    await expect.poll(() => objectRows(`${o.userId}/${sha256}`)).toBe(0);
  }, 120_000);

  it("a provider's wrong bytes are asked for again, then the holder reports the transfer failed: the SQL takes it, both sides end failed with its error", async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const file = fileOf(30_000, 9);
    const sha256 = sha256Hex(file);
    const wrong = fileOf(30_000, 10);
    const member = await startDevice(memberEmail);
    const asked = await member.client.assets.request(sha256, { from: userIdOf(ownerEmail), scope });
    let asks = 0;
    const owner = await startDevice(ownerEmail, (client) =>
      client.assets.provide((hash) => {
        asks++;
        return hash === sha256 ? wrong : undefined;
      }),
    );
    const final = (who: typeof member, direction: 'upload' | 'download') =>
      who.progress.filter((p) => p.id === asked.id && p.direction === direction).at(-1)?.state;
    await expect
      .poll(() => [final(owner, 'upload'), final(member, 'download')], { timeout: 60_000 })
      .toEqual(['failed', 'failed'])
      .catch((error: Error) => {
        throw new Error(
          `${error.message}\nmember: [${member.trouble.join('; ')}]\nowner: [${owner.trouble.join('; ')}]`,
        );
      });
    expect(asks).toBe(3);
    for (const who of [member, owner]) {
      const read = await transfersOf(who).get(asked.id);
      expect(read.state).toBe('failed');
      expect(read.error).toMatch(/other bytes than asset .* in 3 attempts/);
    }
    // Final: the request was acknowledged, the provider is not asked again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(asks).toBe(3);
    expect(await member.client.assets.get(sha256)).toBeUndefined();
  }, 120_000);

  it('security: only members ask, only the two users read, each reports only its side, only the requester completes; to anyone else a transfer does not exist', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const owner = await signIn(ownerEmail);
    const member = await signIn(memberEmail);
    const stranger = await signIn(freshEmail('stranger'));
    const scope = await workspace(ownerEmail, memberEmail);
    const file = fileOf(1000, 18);
    const sha256 = sha256Hex(file);
    const request = (from: string) => ({
      id: randomUUID(),
      scope,
      assetHash: sha256,
      from: { userId: from },
    });
    const outsider = await failure(transfersOf(stranger).create(request(owner.userId)));
    expect([outsider?.kind, outsider?.status, outsider?.code]).toEqual([
      'rejected',
      403,
      'forbidden',
    ]);
    expect(await owner.transport.deliveries.pending()).toEqual([]);
    const notMember = await failure(transfersOf(member).create(request(stranger.userId)));
    expect(notMember?.code).toBe('forbidden');
    const ownUser = await failure(transfersOf(member).create(request(member.userId)));
    expect([ownUser?.kind, ownUser?.status]).toEqual(['rejected', 400]);
    expect(ownUser?.message).toMatch(/your own sessions use deliveries/);
    const malformed = await failure(
      transfersOf(member).create({ ...request(owner.userId), assetHash: 'abc' }),
    );
    expect(malformed?.message).toMatch(/assetHash/);
    expect((await transfersOf(owner).list()).length).toBe(0);

    const body = request(owner.userId);
    await transfersOf(member).create(body);
    // To the stranger it does not exist: the same answer as for an id nobody used.
    const unknown = await failure(transfersOf(stranger).get(randomUUID()));
    const hidden = await failure(transfersOf(stranger).get(body.id));
    expect([hidden?.status, hidden?.code, hidden?.message]).toEqual([
      404,
      'not_found',
      unknown?.message,
    ]);
    expect(unknown?.code).toBe('not_found');
    expect(await transfersOf(stranger).list()).toEqual([]);
    const taken = await failure(
      transfersOf(stranger).create({ ...body, scope: `user:${stranger.userId}` }),
    );
    expect(taken?.status).toBe(403);
    const progress = (
      who: TargetingSession,
      report: Parameters<TransferTransport['progress']>[0],
    ) => failure(transfersOf(who).progress(report));
    const strangerMoves = await progress(stranger, { id: body.id, side: 'upload', bytesDone: 1 });
    expect([strangerMoves?.status, strangerMoves?.code]).toEqual([404, 'not_found']);
    const strangerCompletes = await progress(stranger, {
      id: body.id,
      side: 'download',
      bytesDone: 1000,
      state: 'completed',
    });
    expect(strangerCompletes?.status).toBe(404);
    const ownerDownloads = await progress(owner, { id: body.id, side: 'download', bytesDone: 1 });
    expect([ownerDownloads?.status, ownerDownloads?.code]).toEqual([403, 'forbidden']);
    const ownerCompletes = await progress(owner, {
      id: body.id,
      side: 'upload',
      bytesDone: 1,
      state: 'completed',
    });
    expect(ownerCompletes?.message).toMatch(/only the requester completes/);
    const memberUploads = await progress(member, { id: body.id, side: 'upload', bytesDone: 5 });
    expect(memberUploads?.status).toBe(403);
    const badReport = await progress(member, { id: body.id, side: 'download', bytesDone: -1 });
    expect([badReport?.kind, badReport?.status]).toEqual(['rejected', 400]);
    // Read back: nothing moved.
    expect(await transfersOf(member).get(body.id)).toMatchObject({
      state: 'pending',
      uploadedBytes: 0,
      downloadedBytes: 0,
      requesterUserId: member.userId,
    });
    expect(await transferRow(body.id)).toEqual({ state: 'pending', uploaded_bytes: 0 });

    // Uploaded by the owner, the bytes are readable by the member, not by the stranger, neither
    // through the adapter nor straight from Storage.
    await uploadBytes(owner, file);
    const object = `${owner.userId}/${sha256}`;
    expect(
      sha256Hex(
        (await member.transport.assets?.download({ sha256, start: 0 })) ?? new Uint8Array(),
      ),
    ).toBe(sha256);
    expect(
      (
        await failure(
          stranger.transport.assets?.download({ sha256, start: 0 }) ?? Promise.resolve(),
        )
      )?.status,
    ).toBe(404);
    const direct = await stranger.supabase.storage.from('syncline-assets').download(object);
    expect(direct.data).toBeNull();
    const viaMember = await member.supabase.storage.from('syncline-assets').download(object);
    expect(viaMember.error).toBeNull();
    // The stranger cannot remove it either.
    await stranger.supabase.storage.from('syncline-assets').remove([object]);
    expect(await objectRows(object)).toBe(1);
  });

  it('past its TTL (database clock) a transfer is expired: it reads so before any sweep, cannot move, the sweep writes it, and only then is the object released', async () => {
    const ownerEmail = freshEmail('owner');
    const memberEmail = freshEmail('member');
    const scope = await workspace(ownerEmail, memberEmail);
    const member = await signIn(memberEmail);
    const owner = await signIn(ownerEmail);
    const file = fileOf(10, 1);
    const body = {
      id: randomUUID(),
      scope,
      assetHash: sha256Hex(file),
      from: { userId: owner.userId },
    };
    await transfersOf(member).create(body);
    await uploadBytes(owner, file);
    const object = `${owner.userId}/${body.assetHash}`;
    // Past the upload grace period, the live transfer still keeps the object.
    await advance(2 * HOUR);
    expect(await owner.transport.releaseAssets()).toBe(0);
    expect(await objectRows(object)).toBe(1);
    await advance(47 * HOUR);
    expect((await transfersOf(member).get(body.id)).state).toBe('expired');
    expect(await owner.transport.deliveries.pending()).toEqual([]);
    const late = await failure(
      transfersOf(owner).progress({ id: body.id, side: 'upload', bytesDone: 10 }),
    );
    expect([late?.code, late?.message]).toEqual(['transfer_final', 'the transfer is expired']);
    // The row still holds what the upload wrote (its part moved it); only the sweep writes expired.
    expect((await transferRow(body.id))?.state).toBe('in_progress');
    const [swept] = await project.db.admin.query<{ r: { expiredTransfers: number } }>(
      'SELECT syncline.sweep() AS r',
    );
    expect(swept?.r.expiredTransfers).toBeGreaterThanOrEqual(1);
    expect((await transferRow(body.id))?.state).toBe('expired');
    // Expired: nothing needs the object any more; the owner's clean-up removes it.
    expect(await owner.transport.releaseAssets()).toBe(1);
    expect(await objectRows(object)).toBe(0);
  });
}
