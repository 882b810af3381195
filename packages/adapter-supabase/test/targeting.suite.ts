/**
 * The reference server's session-targeting scenario (packages/server/test/targeting/stories.ts)
 * through unmodified supabase-js against the stand-in project (RPC, Auth, Storage): three
 * active sessions of one user, a stale fourth and a second user. The database clock is
 * injected: `syncline.now_ms()` is replaced to add an offset the test moves.
 */
import { randomUUID } from 'node:crypto';
import type { SqlQueryable } from '@syncline/server';
import {
  isSyncError,
  memoryAssetStore,
  memoryStorage,
  type SyncClient,
  type SyncError,
  sha256Hex,
} from '@syncline/sync-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type SupabaseTransport, supabaseTransport } from '../src/index.js';
import { type DatabaseKind, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { movableClock } from './support/db-clock.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { heldOpen as heldRequest, whileHeld as whileRequestHeld } from './support/held-request.js';
import { userClaims } from './support/request-context.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';
import {
  failure,
  fileOf,
  type TargetingSession as Session,
  targetingDevices,
  uploadBytes as upload,
} from './support/targeting-devices.js';

const HOUR = 60 * 60 * 1000;

/** Defines the suite for one database. */
export function targetingSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  let advance: (ms: number) => Promise<unknown>;
  const transports: SupabaseTransport[] = [];
  const clients: SyncClient[] = [];
  const { signIn, startDevice, startClient } = targetingDevices({
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

  async function household() {
    const email = freshEmail('home');
    const d = await signIn(email);
    // D's last heartbeat is 25 hours old when the others sign in: outside the 24 h window.
    await advance(25 * HOUR);
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);
    const e = await signIn(freshEmail('other'));
    return { a, b, c, d, e };
  }

  const pendingIds = async (who: Session) =>
    (await who.transport.deliveries.pending()).map((delivery) => delivery.id);
  const objectRows = async (name: string) =>
    (await project.db.admin.query('SELECT 1 FROM storage.objects WHERE name = $1', [name])).length;

  it('an asset reaches the other active sessions once, never the sender or another user, and leaves Storage when they acknowledge', async () => {
    const { a, b, c, d, e } = await household();
    const file = fileOf(300_000, 7);
    // A chunk at the wrong offset is refused with where to continue.
    const skipped = await failure(
      a.transport.assets?.uploadChunk({
        sha256: sha256Hex(file),
        offset: 100_000,
        totalSize: file.length,
        chunk: file.subarray(100_000, 200_000),
      }) ?? Promise.resolve(),
    );
    expect(skipped?.code).toBe('offset_mismatch');
    expect(skipped?.details).toEqual({ offset: 0 });
    const sha256 = await upload(a, file);
    const object = `${a.userId}/${sha256}`;
    expect(project.storage.bytes.has(`syncline-assets/${object}`)).toBe(true);
    expect(await a.transport.assets?.probe?.(sha256)).toEqual({
      offset: 300_000,
      length: 300_000,
      complete: true,
    });

    const request = {
      id: randomUUID(),
      scope: `user:${a.userId}`,
      kind: 'asset',
      payload: { name: 'p.png' },
      assetHash: sha256,
      target: { type: 'otherSessions' as const },
      ttlSeconds: 3600,
    };
    const delivery = await a.transport.deliveries.send(request);
    expect(delivery.targetSessionIds).toEqual([b.sessionId, c.sessionId].sort());
    expect(delivery.originSessionId).toBe(a.sessionId);
    // Sending again with the same id is the same delivery, not a second one.
    expect((await a.transport.deliveries.send(request)).id).toBe(request.id);

    expect(await pendingIds(b)).toEqual([request.id]);
    expect(await pendingIds(c)).toEqual([request.id]);
    expect(await pendingIds(a)).toEqual([]);
    expect(await pendingIds(e)).toEqual([]);

    // B reads it in ranges, C whole; the other user can neither locate nor download it.
    const first = await b.transport.assets?.download({ sha256, start: 0, end: 100_000 });
    const rest = await b.transport.assets?.download({ sha256, start: 100_000 });
    expect(sha256Hex(new Uint8Array([...(first ?? []), ...(rest ?? [])]))).toBe(sha256);
    expect(
      sha256Hex((await c.transport.assets?.download({ sha256, start: 0 })) ?? new Uint8Array()),
    ).toBe(sha256);
    expect(
      (await failure(e.transport.assets?.download({ sha256, start: 0 }) ?? Promise.resolve()))
        ?.status,
    ).toBe(404);
    const direct = await e.supabase.storage.from('syncline-assets').download(object);
    expect(direct.data).toBeNull();
    expect((direct.error as { status?: number } | null)?.status).toBe(404);

    expect(await b.transport.deliveries.ack(request.id)).toEqual({ complete: false });
    expect(await pendingIds(b)).toEqual([]);
    expect(await objectRows(object)).toBe(1);
    // C's acknowledgement completes it (the stale D is not waited for) and removes the object.
    expect(await c.transport.deliveries.ack(request.id)).toEqual({ complete: true });
    expect(await objectRows(object)).toBe(0);
    expect(project.storage.bytes.has(`syncline-assets/${object}`)).toBe(false);
    // Acknowledging again is harmless.
    expect(await b.transport.deliveries.ack(request.id)).toEqual({ complete: true });

    const status = await a.transport.deliveries.status?.(request.id);
    expect(status?.status).toEqual({
      targets: [b.sessionId, c.sessionId].sort(),
      acked: [b.sessionId, c.sessionId].sort(),
      complete: true,
      expired: false,
    });
    expect(await pendingIds(d)).toEqual([]);
    const other = await failure(e.transport.deliveries.status?.(request.id) ?? Promise.resolve());
    expect(other?.status).toBe(404);
    expect(other?.kind).toBe('rejected');
  });

  it('a delivery past its TTL (database clock) is no longer received, and its object is removed', async () => {
    const email = freshEmail('ttl');
    const a = await signIn(email);
    const b = await signIn(email);
    const sha256 = await upload(a, fileOf(1000, 3));
    const object = `${a.userId}/${sha256}`;
    const id = randomUUID();
    await a.transport.deliveries.send({
      id,
      scope: `user:${a.userId}`,
      kind: 'asset',
      assetHash: sha256,
      target: { type: 'otherSessions' },
      ttlSeconds: 60,
    });
    // Still live: nothing to release.
    expect(await a.transport.releaseAssets()).toBe(0);
    expect(await objectRows(object)).toBe(1);
    await advance(61_000);
    // B's pending poll runs the clean-up too (at most every releaseIntervalMs): any device of
    // the sender's user removes what expired.
    expect(await pendingIds(b)).toEqual([]);
    await expect.poll(() => objectRows(object), { timeout: 10_000 }).toBe(0);
    expect(project.storage.bytes.has(`syncline-assets/${object}`)).toBe(false);
    const late = await failure(b.transport.deliveries.ack(id));
    expect(late?.status).toBe(404);
    expect(late?.code).toBe('not_found');
    expect((await a.transport.deliveries.status?.(id))?.status.expired).toBe(true);
    expect(await a.transport.releaseAssets()).toBe(0);
  });

  it("a download of an expired delivery's asset, or of an object whose bytes Storage lost, is rejected not_found (final); so is a late ack; a send without ttl lives 48 h", async () => {
    const email = freshEmail('gone');
    const a = await signIn(email);
    const b = await signIn(email);
    const scope = `user:${a.userId}`;
    const target = { type: 'otherSessions' as const };
    // No ttl: the SQL's default, 48 h.
    const plain = await a.transport.deliveries.send({
      id: randomUUID(),
      scope,
      kind: 'note',
      target,
    });
    expect(plain.expiresAt - plain.createdAt).toBe(48 * HOUR);

    const sha256 = await upload(a, fileOf(2000, 41));
    const object = `${a.userId}/${sha256}`;
    const id = randomUUID();
    await a.transport.deliveries.send({
      id,
      scope,
      kind: 'asset',
      assetHash: sha256,
      target,
      ttlSeconds: 60,
    });
    // A clean-up now, so that B's listing starts none that could race the reads below.
    await b.transport.releaseAssets();
    expect(await pendingIds(b)).toContain(id);
    // B listed it; it expires before B's download. Its object is still there (no clean-up ran).
    await advance(61_000);
    expect(await objectRows(object)).toBe(1);
    const notFound = (error: SyncError | undefined) => [error?.kind, error?.code, error?.status];
    const assets = b.transport.assets;
    if (assets?.downloadStream === undefined) throw new Error('no downloadStream');
    expect(notFound(await failure(assets.download({ sha256, start: 0 })))).toEqual([
      'rejected',
      'not_found',
      404,
    ]);
    expect(notFound(await failure(assets.downloadStream({ sha256, start: 0, end: 2000 })))).toEqual(
      ['rejected', 'not_found', 404],
    );
    expect(notFound(await failure(b.transport.deliveries.ack(id)))).toEqual([
      'rejected',
      'not_found',
      404,
    ]);
    // Nothing live references the object now: the sender's own download is refused too (as on
    // the reference server), while its upload's probe still finds the copy.
    expect(
      notFound(
        await failure(a.transport.assets?.download({ sha256, start: 0 }) ?? Promise.resolve()),
      ),
    ).toEqual(['rejected', 'not_found', 404]);
    expect(await a.transport.assets?.probe?.(sha256)).toMatchObject({ complete: true });

    // A live delivery whose object's bytes Storage no longer has (its row still there).
    const lost = await upload(a, fileOf(3000, 43));
    await a.transport.deliveries.send({
      id: randomUUID(),
      scope,
      kind: 'asset',
      assetHash: lost,
      target,
      ttlSeconds: 3600,
    });
    project.storage.bytes.delete(`syncline-assets/${a.userId}/${lost}`);
    expect(notFound(await failure(assets.download({ sha256: lost, start: 0 })))).toEqual([
      'rejected',
      'not_found',
      404,
    ]);
    expect(
      notFound(await failure(assets.downloadStream({ sha256: lost, start: 0, end: 3000 }))),
    ).toEqual(['rejected', 'not_found', 404]);
  });

  it('a delivery that expires between its listing and its download fails once (not_found), is not handled, not fetched in a loop, and the status is not misconfigured', async () => {
    const email = freshEmail('expiring');
    const a = await startDevice(email);
    const offline = await signIn(email); // B's session: a target, its client not started yet
    const sent = await a.client.assets.send(fileOf(20_000, 47), { ttl: 3600 });
    expect(sent.delivery.targetSessionIds).toContain(offline.sessionId);
    let reads = 0;
    const b = await startClient(offline, {
      onTransport(transport) {
        const assets = transport.assets;
        const downloadStream = assets?.downloadStream?.bind(assets);
        if (assets === undefined || downloadStream === undefined) throw new Error('no assets');
        assets.downloadStream = async (req, signal) => {
          // B listed the delivery; it expires (database clock) before B's GET of its asset.
          if (reads++ === 0) await advance(2 * HOUR);
          return downloadStream(req, signal);
        };
      },
    });
    await expect
      .poll(() => b.progress.filter((p) => p.direction === 'download').at(-1)?.state, {
        timeout: 30_000,
      })
      .toBe('failed');
    expect(reads).toBe(1);
    // Backoff waits are at most 50 ms here and the poll runs every 500 ms: a loop shows in 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(reads).toBe(1);
    expect(b.handled).toEqual([]);
    expect(b.client.status.error?.kind).not.toBe('misconfigured');
    expect(b.client.status.state).not.toBe('error');
    expect(await a.client.deliveries.status(sent.delivery.id)).toMatchObject({
      expired: true,
      acked: [],
    });
  }, 120_000);

  it('a re-login on the same device leaves one session, and the old one is signed out everywhere', async () => {
    const email = freshEmail('relogin');
    const clientId = randomUUID();
    const first = await signIn(email, clientId);
    const second = await signIn(email, clientId);
    const sessions = await second.transport.sessions.list();
    expect(sessions.map((s) => s.sessionId)).toEqual([second.sessionId]);
    expect(sessions[0]?.clientId).toBe(clientId);
    const refused = await failure(
      first.transport.sessions.heartbeat({ clientId, sessionId: first.sessionId }),
    );
    expect(isSyncError(refused) && refused.kind === 'auth').toBe(true);
    expect(refused?.code).toBe('session_revoked');
    const rows = await project.db.admin.query('SELECT 1 FROM auth.sessions WHERE id = $1', [
      first.sessionId,
    ]);
    expect(rows).toHaveLength(0);
  });

  it('sessions follow Supabase Auth; device-only sign-out revokes the session and signs supabase-js out', async () => {
    const email = freshEmail('signout');
    const a = await signIn(email);
    const b = await signIn(email);
    expect(b.transport.session.current()).toEqual({ userId: b.userId, sessionId: b.sessionId });
    expect((await a.transport.sessions.list()).map((s) => s.sessionId).sort()).toEqual(
      [a.sessionId, b.sessionId].sort(),
    );
    // B signs out on its own device only.
    await b.transport.sessions.revoke(b.sessionId);
    expect(b.transport.session.current()).toBeNull();
    expect((await a.transport.sessions.list()).map((s) => s.sessionId)).toEqual([a.sessionId]);
    // A signed out in Supabase Auth (another tab's signOut) ends in syncline at the next call.
    const c = await signIn(email);
    await c.supabase.auth.signOut({ scope: 'local' });
    expect((await a.transport.sessions.list()).map((s) => s.sessionId)).toEqual([a.sessionId]);
  });

  /** Sends an asset of `size` bytes (pattern `seed`) from `from` to `target`. */
  async function sendAsset(
    from: Session,
    seed: number,
    target: { type: 'otherSessions' } | { type: 'sessions'; ids: string[] },
  ) {
    const sha256 = await upload(from, fileOf(2000, seed));
    const id = randomUUID();
    const delivery = await from.transport.deliveries.send({
      id,
      scope: `user:${from.userId}`,
      kind: 'asset',
      assetHash: sha256,
      target,
      ttlSeconds: 3600,
    });
    return { id, object: `${from.userId}/${sha256}`, targets: delivery.targetSessionIds };
  }
  /** Whether the delivery is complete, read in the database (its sender may be signed out). */
  const completed = async (id: string) =>
    (
      await project.db.admin.query<{ completed_at: unknown }>(
        'SELECT completed_at FROM syncline.deliveries WHERE id = $1',
        [id],
      )
    )[0]?.completed_at != null;
  const stored = (object: string) => project.storage.bytes.has(`syncline-assets/${object}`);

  it('revoking a session completes at once what waited only on it and removes its object; a delivery another active target still owes stays', async () => {
    const email = freshEmail('revoke-one');
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);
    const owed = await sendAsset(a, 21, { type: 'otherSessions' });
    const waiting = await sendAsset(a, 22, { type: 'otherSessions' });
    expect(owed.targets).toEqual([b.sessionId, c.sessionId].sort());
    expect(await b.transport.deliveries.ack(owed.id)).toEqual({ complete: false });
    // A signs C out: `owed` waited only on C, `waiting` still waits on B.
    await a.transport.sessions.revoke(c.sessionId);
    expect((await a.transport.deliveries.status?.(owed.id))?.status).toMatchObject({
      acked: [b.sessionId],
      complete: true,
      expired: false,
    });
    expect(await b.transport.deliveries.ack(owed.id)).toEqual({ complete: true });
    expect(await objectRows(owed.object)).toBe(0);
    expect(stored(owed.object)).toBe(false);
    expect((await a.transport.deliveries.status?.(waiting.id))?.status.complete).toBe(false);
    expect(await objectRows(waiting.object)).toBe(1);
    expect(await pendingIds(b)).toEqual([waiting.id]);
    // B's acknowledgement then completes it, as before.
    expect(await b.transport.deliveries.ack(waiting.id)).toEqual({ complete: true });
    expect(await objectRows(waiting.object)).toBe(0);
  });

  it.runIf(kind() === 'postgres')(
    'the last acknowledgement racing a revocation: the delivery completes (the revocation waits for the acknowledgement and then sees it)',
    async () => {
      const email = freshEmail('race');
      const a = await signIn(email);
      const b = await signIn(email);
      const c = await signIn(email);
      const sent = await sendAsset(a, 26, { type: 'otherSessions' });
      const held = heldRequest(project.db.admin, userClaims(b.userId, b.sessionId), async (tx) => {
        const [row] = await tx.query<{ answer: { complete: boolean } }>(
          'SELECT public.syncline_ack_delivery($1) AS answer',
          [sent.id],
        );
        return row?.answer.complete;
      });
      await held.inside;
      // A signs C out meanwhile: it either waits on the delivery row B holds, or (without that
      // lock) answers at once. B then commits.
      const revoked = a.transport.sessions.revoke(c.sessionId);
      await whileRequestHeld(project.db.admin, revoked, held.commit);
      expect(await held.result).toBe(false);
      await revoked;
      // Neither missed it: B's acknowledgement did not see C revoked, the revocation saw B's.
      expect(await completed(sent.id)).toBe(true);
      expect(await objectRows(sent.object)).toBe(0);
    },
  );

  /** `fn` as `who`'s request, held open (support/held-request.ts). */
  const heldOpen = <T>(who: Session, fn: (tx: SqlQueryable) => Promise<T>) =>
    heldRequest(project.db.admin, userClaims(who.userId, who.sessionId), fn);

  /** Commits once `promise` settled or a connection waits on a lock; says which came first. */
  const whileHeld = (promise: PromiseLike<unknown>, commit: () => void) =>
    whileRequestHeld(project.db.admin, promise, commit);

  it.runIf(kind() === 'postgres')(
    'a removal racing a new delivery of the same object: the removal waits for the send, then keeps the object the delivery references',
    async () => {
      const email = freshEmail('remove-race');
      const a = await signIn(email);
      const b = await signIn(email);
      // An object nothing references (a clean-up of A's user listed it as releasable).
      const bytes = fileOf(1500, 27);
      const sha256 = await upload(a, bytes);
      const object = `${a.userId}/${sha256}`;
      const id = randomUUID();
      // A sends the same file again: its RPC checked the object and wrote the delivery, and
      // has not committed yet.
      const send = heldOpen(a, (tx) =>
        tx.query(
          `SELECT public.syncline_send_delivery(id => $1, scope => $2, kind => 'asset',
                    target => '{"type": "otherSessions"}'::jsonb, asset_hash => $3)`,
          [id, `user:${a.userId}`, sha256],
        ),
      );
      await send.inside;
      // Meanwhile another device of A's user removes the object through Storage. Its DELETE
      // starts before the send commits: it waits for the send and then sees the delivery.
      const removal = a.supabase.storage.from('syncline-assets').remove([object]);
      expect(await whileHeld(removal, send.commit)).toBe('waited');
      await send.result;
      const removed = await removal;
      expect(removed.error).toBeNull();
      expect(removed.data).toEqual([]);
      expect(await objectRows(object)).toBe(1);
      expect(stored(object)).toBe(true);
      // B receives it and can read it.
      expect(await pendingIds(b)).toEqual([id]);
      const located = await b.transport.assets?.download({ sha256, start: 0 });
      expect(located).toBeDefined();
    },
  );

  it.runIf(kind() === 'postgres')(
    'a new delivery racing the removal of its object: the send waits for the removal, then is refused with asset_missing (nothing references a missing object)',
    async () => {
      const email = freshEmail('send-race');
      const a = await signIn(email);
      await signIn(email);
      const sha256 = await upload(a, fileOf(1500, 28));
      const object = `${a.userId}/${sha256}`;
      // Another device of A's user removes the unreferenced object, as Storage does (the DELETE
      // policy lets it), and has not committed yet.
      const removal = heldOpen(a, (tx) =>
        tx.query(
          `DELETE FROM storage.objects WHERE bucket_id = 'syncline-assets' AND name = ANY ($1::text[])
           RETURNING name`,
          [[object]],
        ),
      );
      await removal.inside;
      // A sends the same file meanwhile: its check of the object must not read the row the
      // removal is deleting.
      const id = randomUUID();
      const sending = failure(
        a.transport.deliveries.send({
          id,
          scope: `user:${a.userId}`,
          kind: 'asset',
          assetHash: sha256,
          target: { type: 'otherSessions' },
          ttlSeconds: 3600,
        }),
      );
      expect(await whileHeld(sending, removal.commit)).toBe('waited');
      expect((await removal.result).length).toBe(1);
      const refused = await sending;
      expect(refused?.status).toBe(409);
      expect(refused?.code).toBe('asset_missing');
      expect(
        await project.db.admin.query('SELECT 1 FROM syncline.deliveries WHERE id = $1', [id]),
      ).toEqual([]);
    },
  );

  it('revoking every session of a user completes what waited only on them and removes its object', async () => {
    const email = freshEmail('revoke-all');
    const a = await signIn(email);
    const b = await signIn(email);
    const sent = await sendAsset(a, 23, { type: 'otherSessions' });
    expect(sent.targets).toEqual([b.sessionId]);
    expect(await completed(sent.id)).toBe(false);
    // "Sign out everywhere" from B: A and B are both signed out, nobody is left to wait for.
    await b.transport.sessions.revoke();
    expect(await completed(sent.id)).toBe(true);
    expect(await objectRows(sent.object)).toBe(0);
    expect(stored(sent.object)).toBe(false);
  });

  it("a re-login that replaces a device's session completes what waited only on the old session and removes its object; one another device still owes stays", async () => {
    const email = freshEmail('replace');
    const device = randomUUID();
    const a = await signIn(email);
    const before = await signIn(email, device);
    const c = await signIn(email);
    const owed = await sendAsset(a, 24, { type: 'sessions', ids: [before.sessionId] });
    const waiting = await sendAsset(a, 25, { type: 'otherSessions' });
    expect(waiting.targets).toEqual([before.sessionId, c.sessionId].sort());
    // The same device signs in again: its new session replaces (and revokes) the old one.
    const after = await signIn(email, device);
    expect((await after.transport.sessions.list()).map((s) => s.sessionId).sort()).toEqual(
      [a.sessionId, after.sessionId, c.sessionId].sort(),
    );
    expect((await a.transport.deliveries.status?.(owed.id))?.status.complete).toBe(true);
    expect(await objectRows(owed.object)).toBe(0);
    expect(stored(owed.object)).toBe(false);
    expect((await a.transport.deliveries.status?.(waiting.id))?.status.complete).toBe(false);
    expect(await objectRows(waiting.object)).toBe(1);
    expect(await c.transport.deliveries.ack(waiting.id)).toEqual({ complete: true });
    expect(await objectRows(waiting.object)).toBe(0);
  });

  it('B signed out in Supabase Auth itself (signOut local): what waited only on B completes in that sign-out, the sender sees it complete and its object leaves Storage; one C still owes stays', async () => {
    const email = freshEmail('auth-local');
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);
    const owed = await sendAsset(a, 31, { type: 'sessions', ids: [b.sessionId] });
    const waiting = await sendAsset(a, 32, { type: 'otherSessions' });
    expect(waiting.targets).toEqual([b.sessionId, c.sessionId].sort());
    // B signs out through supabase-js, not through syncline: GoTrue deletes its auth.sessions row.
    await b.supabase.auth.signOut({ scope: 'local' });
    expect(b.transport.session.current()).toBeNull();
    // Complete in the database before any syncline call reads it.
    expect(await completed(owed.id)).toBe(true);
    expect(await completed(waiting.id)).toBe(false);
    expect((await a.transport.deliveries.status?.(owed.id))?.status).toMatchObject({
      acked: [],
      complete: true,
      expired: false,
    });
    // The sender's status read removed the object nothing references any more.
    expect(await objectRows(owed.object)).toBe(0);
    expect(stored(owed.object)).toBe(false);
    expect((await a.transport.deliveries.status?.(waiting.id))?.status.complete).toBe(false);
    expect(await objectRows(waiting.object)).toBe(1);
    expect((await a.transport.sessions.list()).map((s) => s.sessionId).sort()).toEqual(
      [a.sessionId, c.sessionId].sort(),
    );
    expect(await pendingIds(c)).toEqual([waiting.id]);
    expect(await c.transport.deliveries.ack(waiting.id)).toEqual({ complete: true });
    expect(await objectRows(waiting.object)).toBe(0);
  });

  it("with Realtime, an online device of the sender's user removes the object as soon as B signs out in Supabase Auth (a release hint), reading nothing itself", async () => {
    const email = freshEmail('auth-hint');
    const b = await signIn(email);
    const sender = await signIn(email);
    // Sent before A starts, so A's start-up release finds it referenced (the database clock may
    // have been moved past Storage's created_at by the tests before, making it look old).
    const owed = await sendAsset(sender, 38, { type: 'sessions', ids: [b.sessionId] });
    const a = await startDevice(email, () => undefined, true);
    const joined = () =>
      project.realtime.joins.filter((j) => j.topic === `syncline-user:${a.userId}` && j.ok).length;
    await expect.poll(joined, { timeout: 30_000 }).toBe(1);
    // Let A's start-up release finish: its next one on the poll is a minute (and a 10-minute
    // poll) away, so only the hint can explain what follows.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await objectRows(owed.object)).toBe(1);
    await b.supabase.auth.signOut({ scope: 'local' });
    await expect.poll(() => objectRows(owed.object), { timeout: 15_000 }).toBe(0);
    expect(stored(owed.object)).toBe(false);
  }, 120_000);

  it.runIf(kind() === 'postgres')(
    'the last acknowledgement racing a sign-out in Supabase Auth: the sign-out waits for it, then completes the delivery',
    async () => {
      const email = freshEmail('auth-race');
      const a = await signIn(email);
      const b = await signIn(email);
      const c = await signIn(email);
      const sent = await sendAsset(a, 37, { type: 'otherSessions' });
      const held = heldRequest(project.db.api, userClaims(b.userId, b.sessionId), async (tx) => {
        const [row] = await tx.query<{ answer: { complete: boolean } }>(
          'SELECT public.syncline_ack_delivery($1) AS answer',
          [sent.id],
        );
        return row?.answer.complete;
      });
      await held.inside;
      // C signs out through supabase-js meanwhile: GoTrue's transaction waits on the delivery row.
      const signedOut = c.supabase.auth.signOut({ scope: 'local' });
      await whileRequestHeld(project.db.admin, signedOut, held.commit);
      expect(await held.result).toBe(false);
      expect(await signedOut).toEqual({ error: null });
      // Neither missed it: the sign-out's trigger saw B's acknowledgement.
      expect(await completed(sent.id)).toBe(true);
      expect((await a.transport.deliveries.status?.(sent.id))?.status.complete).toBe(true);
      expect(await objectRows(sent.object)).toBe(0);
    },
  );

  it('signOut "others" from C ends A and B in Supabase Auth: what waited only on B completes at once, one C owes stays, and C frees the object', async () => {
    const email = freshEmail('auth-others');
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);
    const owed = await sendAsset(a, 33, { type: 'sessions', ids: [b.sessionId] });
    const waiting = await sendAsset(a, 34, { type: 'otherSessions' });
    await c.supabase.auth.signOut({ scope: 'others' });
    expect(await completed(owed.id)).toBe(true);
    expect(await completed(waiting.id)).toBe(false);
    expect((await c.transport.sessions.list()).map((s) => s.sessionId)).toEqual([c.sessionId]);
    // The sender is signed out too; C, a device of the same user, frees the object on its poll.
    expect(await pendingIds(c)).toEqual([waiting.id]);
    await expect.poll(() => objectRows(owed.object)).toBe(0);
    expect(stored(owed.object)).toBe(false);
    expect(await objectRows(waiting.object)).toBe(1);
    expect(await c.transport.deliveries.ack(waiting.id)).toEqual({ complete: true });
    expect(await objectRows(waiting.object)).toBe(0);
  });

  it('signOut "global" and an admin deleting a session complete at once what waited on the ended sessions; a device signing in again frees their objects', async () => {
    const email = freshEmail('auth-global');
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);
    const toB = await sendAsset(a, 35, { type: 'sessions', ids: [b.sessionId] });
    const toBoth = await sendAsset(a, 36, { type: 'otherSessions' });
    // An admin deletes C's session in SQL (the dashboard's SQL editor): toBoth still waits on B.
    await project.db.admin.query('DELETE FROM auth.sessions WHERE id = $1', [c.sessionId]);
    expect(await completed(toBoth.id)).toBe(false);
    expect(await completed(toB.id)).toBe(false);
    await b.supabase.auth.signOut({ scope: 'global' });
    expect(await completed(toB.id)).toBe(true);
    expect(await completed(toBoth.id)).toBe(true);
    const again = await signIn(email);
    expect(await pendingIds(again)).toEqual([]);
    await expect.poll(() => objectRows(toB.object)).toBe(0);
    await expect.poll(() => objectRows(toBoth.object)).toBe(0);
    expect(stored(toB.object) || stored(toBoth.object)).toBe(false);
  });

  it('through sync clients: the other two sessions handle an asset exactly once, the sender never, and the object leaves Storage', async () => {
    const email = freshEmail('clients');
    const bytes = new Map<SyncClient, Uint8Array[]>();
    const start = () =>
      startDevice(email, (client) => {
        const received: Uint8Array[] = [];
        bytes.set(client, received);
        client.on('delivery', async (event) => {
          const file = await client.assets.get(event.delivery.assetHash ?? '');
          if (file !== undefined) received.push(await file.bytes());
        });
      });
    const a = await start();
    const b = await start();
    const c = await start();
    await expect
      .poll(
        async () =>
          (
            await project.db.admin.query('SELECT 1 FROM syncline.sessions WHERE user_id = $1', [
              a.userId,
            ])
          ).length,
        { timeout: 30_000 },
      )
      .toBe(3);
    const file = fileOf(50_000, 11);
    const sent = await a.client.assets.send(file, { name: 'photo.bin' });
    const object = `${a.userId}/${sent.hash}`;
    expect(sent.delivery.targetSessionIds).toEqual([b.sessionId, c.sessionId].sort());
    await expect
      .poll(() => [b.handled.length, c.handled.length], { timeout: 30_000 })
      .toEqual([1, 1])
      .catch((error: Error) => {
        const state = (d: typeof b) =>
          `${JSON.stringify(d.client.status)} [${d.trouble.join('; ')}]`;
        throw new Error(`${error.message}\nb: ${state(b)}\nc: ${state(c)}`);
      });
    await expect.poll(() => objectRows(object), { timeout: 30_000 }).toBe(0);
    // Several more polls later, still once each, and never on the sender.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(b.handled).toEqual([sent.delivery.id]);
    expect(c.handled).toEqual([sent.delivery.id]);
    expect(a.handled).toEqual([]);
    expect(bytes.get(b.client)?.map((x) => sha256Hex(x))).toEqual([sent.hash]);
    expect(bytes.get(c.client)?.map((x) => sha256Hex(x))).toEqual([sent.hash]);
    expect(project.storage.bytes.has(`syncline-assets/${object}`)).toBe(false);
    // Three polling clients share PGlite's one connection: slow on a loaded machine.
  }, 120_000);

  it('with Realtime and a 10-minute poll, a delivery reaches the other device at once, a new session and a revocation are heard at once too', async () => {
    const email = freshEmail('hinted');
    const a = await startDevice(email, () => undefined, true);
    const second = await startDevice(email, () => undefined, true);
    // Both have joined their user's hint channel: only a hint can bring what follows.
    const joined = () =>
      project.realtime.joins.filter((j) => j.topic === `syncline-user:${a.userId}` && j.ok).length;
    await expect.poll(joined, { timeout: 30_000 }).toBe(2);
    // Let the catch-up list that follows each join finish, so it cannot find the delivery.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sent = await a.client.deliveries.send({ kind: 'note', payload: { text: 'hello' } });
    await expect
      .poll(() => second.handled, { timeout: 15_000 })
      .toEqual([sent.id])
      .catch((error: Error) => {
        throw new Error(`${error.message}
b: [${second.trouble.join('; ')}]`);
      });
    expect(a.handled).toEqual([]);
    // A third device signs in: the others hear a 'session' hint and re-list.
    const lists: string[][] = [];
    second.client.sessions.on('change', (event) => {
      if (event.sessions !== undefined) lists.push(event.sessions.map((x) => x.sessionId));
    });
    const third = await signIn(email);
    await expect
      .poll(() => lists.some((ids) => ids.includes(third.sessionId)), { timeout: 15_000 })
      .toBe(true);
    // A signs the second device out: it learns at once that it is signed out.
    await a.client.sessions.revoke(second.sessionId);
    await expect
      .poll(() => second.client.sessions.current?.revokedAt !== undefined, { timeout: 15_000 })
      .toBe(true);
  }, 120_000);

  it('a download damaged on the way is detected by its SHA-256 and fetched again; the handler gets the right bytes once', async () => {
    const email = freshEmail('corrupt');
    const received: string[] = [];
    const start = { assetChunkBytes: 64 * 1024 };
    const a = await startClient(await signedInClient(project, email), start);
    const bSignedIn = await signedInClient(project, email);
    const b = await startClient(bSignedIn, {
      ...start,
      setup: (client: SyncClient) => {
        client.on('delivery', async (event) => {
          const file = await client.assets.get(event.delivery.assetHash ?? '');
          if (file !== undefined) received.push(sha256Hex(await file.bytes()));
        });
      },
    });
    await expect
      .poll(
        async () =>
          (
            await project.db.admin.query('SELECT 1 FROM syncline.sessions WHERE user_id = $1', [
              a.userId,
            ])
          ).length,
        { timeout: 30_000 },
      )
      .toBe(2);
    const bToken = (await bSignedIn.supabase.auth.getSession()).data.session?.access_token;
    project.corruptDownloads(
      (r) => r.path.includes('/object/') && r.headers.authorization === `Bearer ${bToken}`,
    );
    const sent = await a.client.assets.send(fileOf(100_000, 21), { name: 'damaged.bin' });
    await expect.poll(() => b.handled, { timeout: 30_000 }).toEqual([sent.delivery.id]);
    expect(received).toEqual([sent.hash]);
    const reads = project.storage.calls.filter(
      (call) => call.method === 'GET' && call.path.endsWith(sent.hash),
    );
    expect(reads.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => objectRows(`${a.userId}/${sent.hash}`), { timeout: 30_000 }).toBe(0);
    expect(a.handled).toEqual([]);
  }, 120_000);

  it('B reloads mid-download and resumes from the bytes it stored (a ranged GET); B, C each handle the asset once, A never', async () => {
    const email = freshEmail('reload');
    const bytes = new Map<SyncClient, Uint8Array[]>();
    const keepBytes = (client: SyncClient) => {
      const received: Uint8Array[] = [];
      bytes.set(client, received);
      client.on('delivery', async (event) => {
        const file = await client.assets.get(event.delivery.assetHash ?? '');
        if (file !== undefined) received.push(await file.bytes());
      });
    };
    const start = { setup: keepBytes, assetChunkBytes: 64 * 1024 };
    const a = await startClient(await signedInClient(project, email), start);
    const bSignedIn = await signedInClient(project, email);
    const bStorage = memoryStorage();
    const bStore = memoryAssetStore();
    const b = await startClient(bSignedIn, { ...start, storage: bStorage, assetStore: bStore });
    const c = await startClient(await signedInClient(project, email), start);
    await expect
      .poll(
        async () =>
          (
            await project.db.admin.query('SELECT 1 FROM syncline.sessions WHERE user_id = $1', [
              a.userId,
            ])
          ).length,
        { timeout: 30_000 },
      )
      .toBe(3);
    // B's network dies 150 kB into its download: the bytes stop, the connection stays open.
    const bToken = (await bSignedIn.supabase.auth.getSession()).data.session?.access_token;
    project.stallDownloads(
      (r) => r.path.includes('/object/') && r.headers.authorization === `Bearer ${bToken}`,
      150_000,
    );
    const file = fileOf(400_000, 13);
    const sent = await a.client.assets.send(file, { name: 'big.bin' });
    const key = `download-${sent.hash}`;
    await expect.poll(() => bStore.partialSize(key), { timeout: 30_000 }).toBeGreaterThan(0);
    const stored = await bStore.partialSize(key);
    expect(stored).toBeLessThanOrEqual(150_000);
    expect(b.handled).toEqual([]);
    // The reload: same local storage and asset store, same Supabase session, new transport.
    await b.client.stop();
    const b2 = await startClient(bSignedIn, { ...start, storage: bStorage, assetStore: bStore });
    await expect
      .poll(() => [b2.handled.length, c.handled.length], { timeout: 30_000 })
      .toEqual([1, 1])
      .catch((error: Error) => {
        const state = (d: typeof b) =>
          `${JSON.stringify(d.client.status)} [${d.trouble.join('; ')}]`;
        throw new Error(`${error.message}\nb: ${state(b2)}\nc: ${state(c)}`);
      });
    const ranges = project.storage.calls
      .filter((call) => call.method === 'GET' && call.path.endsWith(sent.hash))
      .map((call) => call.range);
    // C and B read from byte 0; B after its reload only from what it had not stored.
    expect(ranges.filter((r) => r !== 'bytes=0-399999')).toEqual([`bytes=${stored}-399999`]);
    const resumed = b2.progress.filter((p) => p.direction === 'download');
    expect(resumed.find((p) => p.state === 'in_progress')?.bytesDone).toBe(stored);
    expect(resumed.at(-1)).toMatchObject({ state: 'completed', bytesDone: 400_000 });
    expect(bytes.get(b2.client)?.map((x) => sha256Hex(x))).toEqual([sent.hash]);
    expect(bytes.get(c.client)?.map((x) => sha256Hex(x))).toEqual([sent.hash]);
    await expect.poll(() => objectRows(`${a.userId}/${sent.hash}`), { timeout: 30_000 }).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect([b.handled, b2.handled, c.handled, a.handled]).toEqual([
      [],
      [sent.delivery.id],
      [sent.delivery.id],
      [],
    ]);
  }, 120_000);

  it('an upload cut off mid-way resumes from the offset Storage holds (TUS HEAD), in a new transport too (its URL kept in the database); parts are 6 MB', async () => {
    const MB = 1024 * 1024;
    let loseAnswers = 0;
    // The PATCH reaches Storage and is taken; its answer is lost on the way back.
    const lossy: typeof fetch = async (input, init) => {
      const answer = await fetch(input, init);
      if (init?.method !== 'PATCH' || loseAnswers === 0) return answer;
      loseAnswers--;
      await answer.body?.cancel();
      throw new TypeError('fetch failed');
    };
    const signedIn = await signedInClient(project, freshEmail('tus'), { fetch: lossy });
    const keptUrls = async () =>
      (
        await project.db.admin.query('SELECT 1 FROM syncline.asset_uploads WHERE user_id = $1', [
          signedIn.userId,
        ])
      ).length;
    const transportOf = async () => {
      const transport = supabaseTransport({
        client: signedIn.supabase,
        realtime: false,
        onRealtimeError: () => undefined,
      });
      transports.push(transport);
      await transport.sessions.heartbeat({ clientId, sessionId: signedIn.sessionId });
      return transport.assets;
    };
    const clientId = randomUUID();
    const first = await transportOf();
    const file = fileOf(13 * MB, 5);
    const sha256 = sha256Hex(file);
    const chunk = (from: number, to: number) => ({
      sha256,
      offset: from * MB,
      totalSize: file.length,
      chunk: file.subarray(from * MB, to * MB),
    });
    // The client's 4 MB chunks: 4 + 4 MB make the first 6 MB part.
    await first?.uploadChunk(chunk(0, 4));
    await first?.uploadChunk(chunk(4, 8));
    loseAnswers = 1;
    const cut = await failure(first?.uploadChunk(chunk(8, 12)) ?? Promise.resolve());
    expect(cut?.kind).toBe('network');
    expect(await objectRows(`${signedIn.userId}/${sha256}`)).toBe(0);
    expect(await keptUrls()).toBe(1);
    // A restarted process: a new transport finds the URL in the database and asks Storage,
    // which took the second part.
    const second = await transportOf();
    expect(await second?.probe?.(sha256)).toEqual({
      offset: 12 * MB,
      length: 13 * MB,
      complete: false,
    });
    const skipped = await failure(second?.uploadChunk(chunk(8, 12)) ?? Promise.resolve());
    expect(skipped?.code).toBe('offset_mismatch');
    expect(skipped?.details).toEqual({ offset: 12 * MB });
    await second?.uploadChunk(chunk(12, 13));
    expect(await second?.probe?.(sha256)).toEqual({
      offset: 13 * MB,
      length: 13 * MB,
      complete: true,
    });
    const stored = project.storage.bytes.get(`syncline-assets/${signedIn.userId}/${sha256}`);
    expect(sha256Hex(stored ?? new Uint8Array())).toBe(sha256);
    const mine = project.storage.tus.patches.filter((p) =>
      Buffer.from(p.id, 'base64url').toString().includes(sha256),
    );
    expect(mine.map((p) => [p.offset / MB, p.bytes / MB])).toEqual([
      [0, 6],
      [6, 6],
      [12, 1],
    ]);
    expect(await keptUrls()).toBe(0);
  }, 60_000);
}
