/**
 * The service role's clean-up (`syncSweepHandler`, `sql/0004_syncline_sweep.sql`) through
 * unmodified supabase-js against the stand-in project: the objects of a user who never comes
 * back leave Storage, live ones and objects that are not syncline's stay, and only a caller
 * with the secret (the handler) and the service role (the RPC) can run it. The database clock
 * is movable (`support/db-clock.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { isRetryableError, isSyncError, type SyncClient, sha256Hex } from '@syncline/sync-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type SupabaseTransport, supabaseTransport } from '../src/index.js';
import { type SyncSweepReport, syncSweepHandler } from '../src/sweep-handler.js';
import { type DatabaseKind, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { movableClock } from './support/db-clock.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { heldOpen, whileHeld } from './support/held-request.js';
import { serviceRoleKey } from './support/jwt.js';
import { userClaims } from './support/request-context.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';
import { targetingDevices } from './support/targeting-devices.js';

const HOUR = 60 * 60 * 1000;
const SECRET = 'sweep-secret-of-the-test';
const BUCKET = 'syncline-assets';

interface Device {
  transport: SupabaseTransport;
  userId: string;
  sessionId: string;
  supabase: SupabaseClient;
}

/** Defines the suite for one database. */
export function sweepSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  let advance: (ms: number) => Promise<unknown>;
  let service: SupabaseClient;
  let seed = 0;
  const transports: SupabaseTransport[] = [];
  const clients: SyncClient[] = [];
  const devices = targetingDevices({ project: () => project, transports, clients });

  beforeAll(async () => {
    const url = adminUrl?.();
    project = await startSupabaseStandIn(
      await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url }),
    );
    advance = await movableClock(project.db.admin);
    service = project.createClient({ key: await serviceRoleKey() });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const c of clients) await c.stop();
    for (const t of transports) t.stop();
    await project?.close();
    await project?.db.close();
  });

  async function signIn(email: string): Promise<Device> {
    const signedIn = await signedInClient(project, email);
    const transport = supabaseTransport({
      client: signedIn.supabase,
      realtime: false,
      onRealtimeError: () => undefined,
    });
    transports.push(transport);
    await transport.sessions.heartbeat({ clientId: randomUUID(), sessionId: signedIn.sessionId });
    return { ...signedIn, transport };
  }

  /** Uploads a new file from `who`; answers its hash, object name and bytes. */
  async function upload(who: Device) {
    seed += 1;
    const bytes = Uint8Array.from({ length: 2000 }, (_, i) => (i * 17 + seed) % 251);
    const sha256 = sha256Hex(bytes);
    await who.transport.assets?.uploadChunk({ sha256, offset: 0, totalSize: 2000, chunk: bytes });
    return { sha256, object: `${who.userId}/${sha256}`, bytes };
  }

  const send = (who: Device, sha256: string, ttlSeconds: number) =>
    who.transport.deliveries.send({
      id: randomUUID(),
      scope: `user:${who.userId}`,
      kind: 'asset',
      assetHash: sha256,
      target: { type: 'otherSessions' },
      ttlSeconds,
    });

  const stored = async (name: string) =>
    (await project.db.admin.query('SELECT 1 FROM storage.objects WHERE name = $1', [name]))
      .length === 1 && project.storage.bytes.has(`${BUCKET}/${name}`);

  const post = (handler: (req: Request) => Promise<Response>, authorization?: string) =>
    handler(
      new Request('http://127.0.0.1/functions/v1/syncline-sweep', {
        method: 'POST',
        headers: authorization === undefined ? {} : { authorization },
      }),
    );

  it("removes the objects of a user who never comes back; live objects and others' stay", async () => {
    // G sends two files to its other device, then neither device is ever seen again.
    const goneEmail = freshEmail('gone');
    const gone = await signIn(goneEmail);
    await signIn(goneEmail);
    const x = await upload(gone);
    const y = await upload(gone);
    await send(gone, x.sha256, 60);
    await send(gone, y.sha256, 60);
    // K keeps a delivery live for a day and has a fresh upload it has not sent yet.
    const keptEmail = freshEmail('kept');
    const kept = await signIn(keptEmail);
    const keptOther = await signIn(keptEmail);
    const z = await upload(kept);
    await send(kept, z.sha256, 24 * 3600);
    const w = await upload(kept);
    // An object of the app's own in the same bucket: not a syncline asset, never touched.
    const own = await service.storage
      .from(BUCKET)
      .upload('app/readme.txt', new TextEncoder().encode('hello'), { contentType: 'text/plain' });
    expect(own.error).toBeNull();

    await advance(61_000);
    expect(await stored(x.object)).toBe(true);
    const handler = syncSweepHandler({ client: service, secret: SECRET, batchSize: 1 });
    const first = await post(handler, `Bearer ${SECRET}`);
    expect(first.status).toBe(200);
    const report = (await first.json()) as SyncSweepReport;
    // batchSize 1: one object per round, so two rounds removed them and a third found none.
    expect(report.removedObjects).toBe(2);
    expect(report.more).toBe(false);
    expect(report.sweep.expiredDeliveries).toBe(2);
    expect(await stored(x.object)).toBe(false);
    expect(await stored(y.object)).toBe(false);
    expect(await stored(z.object)).toBe(true);
    expect(await stored(w.object)).toBe(true);
    expect(project.storage.bytes.has(`${BUCKET}/app/readme.txt`)).toBe(true);

    // Past the grace period the upload K never sent goes too; the live delivery's object stays
    // and its receiver still reads it.
    await advance(2 * HOUR);
    const second = await post(handler, `Bearer ${SECRET}`);
    expect(((await second.json()) as SyncSweepReport).removedObjects).toBe(1);
    expect(await stored(w.object)).toBe(false);
    expect(await stored(z.object)).toBe(true);
    expect(project.storage.bytes.has(`${BUCKET}/app/readme.txt`)).toBe(true);
    const read = await keptOther.transport.assets?.download({ sha256: z.sha256, start: 0 });
    expect(sha256Hex(read ?? new Uint8Array())).toBe(z.sha256);
    const again = await post(handler, `Bearer ${SECRET}`);
    expect(((await again.json()) as SyncSweepReport).removedObjects).toBe(0);
  });

  it("a device's clean-up that listed an object before a new delivery referenced it does not remove it", async () => {
    const email = freshEmail('resend');
    const sender = await signIn(email);
    const receiver = await signIn(email);
    const file = await upload(sender);
    // Over the grace period and unsent: releasable, and the sender's device lists it...
    await advance(2 * HOUR);
    const listed = await sender.supabase.rpc('syncline_releasable_assets');
    expect((listed.data as { objects: string[] }).objects).toContain(file.object);
    // ...then the user sends that file again (the upload is skipped: the object exists)...
    await send(sender, file.sha256, 3600);
    // ...and the clean-up removes what it listed: Storage's DELETE policy re-checks and keeps it.
    const removed = await sender.supabase.storage.from(BUCKET).remove([file.object]);
    expect(removed.data).toEqual([]);
    expect(await stored(file.object)).toBe(true);
    const read = await receiver.transport.assets?.download({ sha256: file.sha256, start: 0 });
    expect(sha256Hex(read ?? new Uint8Array())).toBe(file.sha256);
  });

  it('a send of an object the sweep listed is answered retryable until its removal, then uploads again', async () => {
    const email = freshEmail('swept-resend');
    const sender = await signIn(email);
    const receiver = await signIn(email);
    const file = await upload(sender);
    // Over the grace period and unsent: the sweep lists it. Right before its Storage request
    // (after the listing RPC), the user sends that file again; the upload was skipped (the
    // object exists), so the send references the object the sweep is about to remove.
    await advance(2 * HOUR);
    let during: unknown;
    const storage = {
      from: (bucket: string) => {
        const api = service.storage.from(bucket);
        return {
          ...api,
          remove: async (paths: string[]) => {
            if (paths.includes(file.object)) {
              during = await send(sender, file.sha256, 3600).then(
                (delivery) => delivery,
                (error: unknown) => error,
              );
            }
            return api.remove(paths);
          },
        };
      },
    };
    const handler = syncSweepHandler({
      client: {
        rpc: (fn: string, args?: Record<string, unknown>) => service.rpc(fn, args),
        storage,
      },
      secret: SECRET,
    });
    const answer = await post(handler, `Bearer ${SECRET}`);
    expect(answer.status).toBe(200);
    // The send was refused with an error the client retries; no delivery references the file.
    expect(isSyncError(during) && during.kind).toBe('server');
    expect(isSyncError(during) && during.code).toBe('asset_busy');
    expect(isRetryableError(during)).toBe(true);
    const rows = await project.db.admin.query(
      'SELECT 1 FROM syncline.deliveries WHERE user_id = $1 AND asset_hash = $2',
      [sender.userId, file.sha256],
    );
    expect(rows).toHaveLength(0);
    expect(await stored(file.object)).toBe(false);
    // The claim is cleared: the retry finds the object gone, uploads again and sends.
    const retry = await send(sender, file.sha256, 3600).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSyncError(retry) && retry.code).toBe('asset_missing');
    await sender.transport.assets?.uploadChunk({
      sha256: file.sha256,
      offset: 0,
      totalSize: file.bytes.length,
      chunk: file.bytes,
    });
    await send(sender, file.sha256, 3600);
    const read = await receiver.transport.assets?.download({ sha256: file.sha256, start: 0 });
    expect(sha256Hex(read ?? new Uint8Array())).toBe(file.sha256);
  });

  it('through sync clients: a send of a claimed object retries, and after the sweep it uploads again and B reads the file', async () => {
    const email = freshEmail('client-swept');
    // Each device's supabase-js fetch, observed (not changed). A device removes its user's
    // releasable objects on its first pending-deliveries poll, then every minute: both have done
    // that first round before the file is uploaded, or one could remove the file before the sweep
    // lists it.
    const released: Array<Promise<void>> = [];
    let busy = (): void => undefined;
    const answeredBusy = new Promise<void>((resolve) => {
      busy = resolve;
    });
    const observed = (): typeof fetch => {
      let release = (): void => undefined;
      released.push(new Promise<void>((resolve) => (release = resolve)));
      return async (input, init) => {
        const response = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        if (url.endsWith('/rpc/syncline_releasable_assets')) release();
        // A's answer to its delivery: resolves at the first asset_busy.
        if (url.endsWith('/rpc/syncline_send_delivery') && response.status === 503) busy();
        return response;
      };
    };
    const a = await devices.startClient(
      await signedInClient(project, email, { fetch: observed() }),
    );
    const received: string[] = [];
    await devices.startClient(await signedInClient(project, email, { fetch: observed() }), {
      setup: (client) => {
        client.on('delivery', async (event) => {
          const file = await client.assets.get(event.delivery.assetHash ?? '');
          if (file !== undefined) received.push(sha256Hex(await file.bytes()));
        });
      },
    });
    await Promise.all(released);
    // A uploaded the file long ago and never sent it; the sweep lists (and claims) it.
    const file = await upload(a);
    await advance(2 * HOUR);
    const listed = await service.rpc('syncline_sweep_assets', { max_objects: 1000 });
    const page = listed.data as { bucket: string; objects: string[]; claim: string };
    expect(page.objects).toContain(file.object);
    // A sends the same file: its upload finds the object complete, the delivery is answered
    // asset_busy and retried. Meanwhile the sweep removes the object and clears its claim.
    const sending = a.client.assets.send(file.bytes, { name: 'again.bin' });
    const accepted = sending.then(() => 'accepted' as const);
    accepted.catch(() => undefined); // awaited below through sending
    expect(await Promise.race([answeredBusy.then(() => 'busy' as const), accepted])).toBe('busy');
    expect(await service.storage.from(page.bucket).remove(page.objects)).toMatchObject({
      error: null,
    });
    await service.rpc('syncline_sweep_release', { claim: page.claim });
    // The retry gets asset_missing, uploads the file again and sends; B reads it.
    const sent = await sending;
    expect(sent.hash).toBe(file.sha256);
    expect(await stored(file.object)).toBe(true);
    await expect.poll(() => received, { timeout: 30_000 }).toEqual([file.sha256]);
  }, 120_000);

  it('a claim holds sends and transfer requests until released; a stale claim does not block', async () => {
    const sender = await signIn(freshEmail('claimed'));
    // A member of a workspace the sender shares asks it for the file (a transfer).
    const member = await signIn(freshEmail('claimed-member'));
    const scope = `workspace:${randomUUID().slice(0, 8)}`;
    for (const userId of [sender.userId, member.userId]) {
      await project.db.admin.query(
        'INSERT INTO syncline.scope_members (scope, user_id) VALUES ($1, $2)',
        [scope, userId],
      );
    }
    const file = await upload(sender);
    await advance(2 * HOUR);
    const listed = await service.rpc('syncline_sweep_assets', { max_objects: 1000 });
    const page = listed.data as { objects: string[]; claim: string };
    expect(page.objects).toContain(file.object);
    const refused = await send(sender, file.sha256, 3600).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSyncError(refused) && refused.code).toBe('asset_busy');
    const asked = await member.transport.transfers
      ?.create({
        id: randomUUID(),
        scope,
        assetHash: file.sha256,
        from: { userId: sender.userId },
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isSyncError(asked) && asked.code).toBe('asset_busy');
    // Only the service role may clear claims; nothing was removed, so the send then goes ahead.
    const asUser = await sender.supabase.rpc('syncline_sweep_release', { claim: page.claim });
    expect(asUser.error?.code).toBe('42501');
    const released = await service.rpc('syncline_sweep_release', { claim: page.claim });
    expect(released.data).toMatchObject({ released: page.objects.length });
    await send(sender, file.sha256, 60);

    // A sweep that crashed after listing never clears its claim: past the claim's lifetime the
    // send goes ahead anyway.
    const second = await upload(sender);
    await advance(2 * HOUR);
    const again = await service.rpc('syncline_sweep_assets', { max_objects: 1000 });
    expect((again.data as { objects: string[] }).objects).toContain(second.object);
    await advance(6 * 60 * 1000);
    await send(sender, second.sha256, 3600);
    expect(await stored(second.object)).toBe(true);
  });

  it.runIf(kind() === 'postgres')(
    'a sweep listing an object while a send of it has not committed waits for the send, then neither lists nor claims it',
    async () => {
      const sender = await signIn(freshEmail('sweep-race'));
      const file = await upload(sender);
      await advance(2 * HOUR);
      const id = randomUUID();
      // The send, as PostgREST runs it, wrote its delivery and has not committed yet.
      const sent = heldOpen(
        project.db.admin,
        userClaims(sender.userId, sender.sessionId),
        async (tx) => {
          await tx.query(
            `SELECT public.syncline_send_delivery(id => $1, scope => $2, kind => 'asset',
                      target => '{"type": "otherSessions"}'::jsonb, asset_hash => $3)`,
            [id, `user:${sender.userId}`, file.sha256],
          );
        },
      );
      await sent.inside;
      const listing = service.rpc('syncline_sweep_assets', { max_objects: 1000 });
      // The listing waits on the object's lock (it would list the object at once without it).
      expect(await whileHeld(project.db.admin, listing, sent.commit)).toBe('waited');
      await sent.result;
      const page = (await listing).data as { objects: string[]; claim: string };
      expect(page.objects).not.toContain(file.object);
      const claims = await project.db.admin.query(
        'SELECT 1 FROM syncline.asset_claims WHERE name = $1',
        [file.object],
      );
      expect(claims).toHaveLength(0);
      await service.rpc('syncline_sweep_release', { claim: page.claim });
    },
  );

  it('a Storage request that fails leaves the round claimed until the claim expires', async () => {
    const sender = await signIn(freshEmail('storage-down'));
    const file = await upload(sender);
    await advance(2 * HOUR);
    // No answer from Storage: it may still be removing, so the claims must not be cleared.
    const storage = {
      from: (bucket: string) => ({
        ...service.storage.from(bucket),
        remove: async () => {
          throw new TypeError('fetch failed');
        },
      }),
    };
    const handler = syncSweepHandler({
      client: {
        rpc: (fn: string, args?: Record<string, unknown>) => service.rpc(fn, args),
        storage,
      },
      secret: SECRET,
    });
    const answer = await post(handler, `Bearer ${SECRET}`);
    expect(answer.status).toBe(502);
    const refused = await send(sender, file.sha256, 3600).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSyncError(refused) && refused.code).toBe('asset_busy');
    await advance(6 * 60 * 1000);
    await send(sender, file.sha256, 3600);
    expect(await stored(file.object)).toBe(true);
  });

  /**
   * A service-role client whose listing answer (`syncline_sweep_assets`, as its fetch receives
   * it) is passed to `during`, which may stall the round (move the clocks, send the file), and
   * then to `edit` before supabase-js reads it.
   */
  const listingWith = async (
    during: (page: { objects: string[]; claim: string }) => Promise<void>,
    edit: (page: Record<string, unknown>) => Record<string, unknown> = (page) => page,
  ) =>
    project.createClient({
      key: await serviceRoleKey(),
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        if (!url.endsWith('/rpc/syncline_sweep_assets') || !response.ok) return response;
        const page = (await response.json()) as { objects: string[]; claim: string };
        await during(page);
        return new Response(JSON.stringify(edit(page)), {
          status: response.status,
          headers: { 'content-type': 'application/json' },
        });
      },
    });

  const claimsOf = async (name: string) =>
    (await project.db.admin.query('SELECT 1 FROM syncline.asset_claims WHERE name = $1', [name]))
      .length;

  it('the listing answers the claim lifetime', async () => {
    const listed = await service.rpc('syncline_sweep_assets', { max_objects: 1 });
    expect(listed.data).toMatchObject({ claimMs: 5 * 60 * 1000 });
    await service.rpc('syncline_sweep_release', { claim: listed.data.claim });
  });

  it('a stalled round does not remove an object sent again after its claims expired', async () => {
    const email = freshEmail('stalled');
    const sender = await signIn(email);
    const receiver = await signIn(email);
    const file = await upload(sender);
    await advance(2 * HOUR);
    // The function stalls for 6 minutes between its listing and its Storage request (its own
    // clock and the database's move on together); meanwhile the claim expires and the user
    // sends the file again: accepted, the object is in the bucket.
    let clock = 1_000_000;
    const handler = syncSweepHandler({
      client: await listingWith(async (page) => {
        expect(page.objects).toContain(file.object);
        await advance(6 * 60 * 1000);
        clock += 6 * 60 * 1000;
        await send(sender, file.sha256, 3600);
      }),
      secret: SECRET,
      environment: { now: () => clock },
    });
    const answer = await post(handler, `Bearer ${SECRET}`);
    expect(answer.status).toBe(502);
    expect(await answer.json()).toMatchObject({
      error: { kind: 'timeout', code: 'sweep_too_slow' },
      removedObjects: 0,
    });
    expect(await stored(file.object)).toBe(true);
    const read = await receiver.transport.assets?.download({ sha256: file.sha256, start: 0 });
    expect(sha256Hex(read ?? new Uint8Array())).toBe(file.sha256);
  });

  it('a round past half the claim lifetime releases its claims unremoved; up to half it removes', async () => {
    const sender = await signIn(freshEmail('slow-listing'));
    const file = await upload(sender);
    await advance(2 * HOUR);
    // The listing took 150.001 s by the function's clock (the database's did not move: the
    // claims are live): no Storage request, the claims are cleared, a send goes ahead at once.
    let clock = 0;
    let removes = 0;
    const counted = await listingWith(async () => {
      clock += 150_001;
    });
    const slow = syncSweepHandler({
      client: {
        rpc: (fn: string, args?: Record<string, unknown>) => counted.rpc(fn, args),
        storage: {
          from: (bucket: string) => {
            const api = service.storage.from(bucket);
            return {
              remove: (paths: string[]) => {
                removes += 1;
                return api.remove(paths);
              },
            };
          },
        },
      },
      secret: SECRET,
      environment: { now: () => clock },
    });
    const answer = await post(slow, `Bearer ${SECRET}`);
    expect(answer.status).toBe(502);
    const body = (await answer.json()) as {
      error: { kind: string; code: string; message: string };
    };
    expect(body.error).toMatchObject({ kind: 'timeout', code: 'sweep_too_slow' });
    expect(body.error.message).toMatch(/150001 ms/);
    expect(removes).toBe(0);
    expect(await stored(file.object)).toBe(true);
    expect(await claimsOf(file.object)).toBe(0);
    await send(sender, file.sha256, 60);

    // Exactly half the lifetime: the round goes ahead (once the delivery ended, the object is
    // releasable again).
    const second = await upload(sender);
    await advance(2 * HOUR);
    const timely = syncSweepHandler({
      client: await listingWith(async () => {
        clock += 150_000;
      }),
      secret: SECRET,
      environment: { now: () => clock },
    });
    const done = await post(timely, `Bearer ${SECRET}`);
    expect(done.status).toBe(200);
    expect(((await done.json()) as SyncSweepReport).removedObjects).toBeGreaterThanOrEqual(2);
    expect(await stored(second.object)).toBe(false);
    expect(await stored(file.object)).toBe(false);
  });

  it("the deadline is half the answer's claimMs; an answer without it (an older 0004) counts 5 minutes", async () => {
    const sender = await signIn(freshEmail('claim-ms'));
    const file = await upload(sender);
    await advance(2 * HOUR);
    let clock = 0;
    const run = async (
      step: number,
      edit: (page: Record<string, unknown>) => Record<string, unknown>,
    ) => {
      const handler = syncSweepHandler({
        client: await listingWith(async () => {
          clock += step;
        }, edit),
        secret: SECRET,
        environment: { now: () => clock },
      });
      const answer = await post(handler, `Bearer ${SECRET}`);
      return { status: answer.status, body: (await answer.json()) as { error?: { code: string } } };
    };
    expect(await run(501, (page) => ({ ...page, claimMs: 1000 }))).toMatchObject({
      status: 502,
      body: { error: { code: 'sweep_too_slow' } },
    });
    expect(
      await run(150_001, (page) => {
        const { claimMs: _dropped, ...older } = page;
        return older;
      }),
    ).toMatchObject({ status: 502, body: { error: { code: 'sweep_too_slow' } } });
    expect(await run(0, (page) => ({ ...page, claimMs: 'soon' }))).toMatchObject({
      status: 502,
      body: { error: { code: 'bad_response' } },
    });
    expect(await stored(file.object)).toBe(true);
    // The bad answer's claims were left to expire (the handler could not trust its claim).
    await advance(6 * 60 * 1000);
    expect(
      await run(150_000, (page) => {
        const { claimMs: _dropped, ...older } = page;
        return older;
      }),
    ).toMatchObject({ status: 200 });
    expect(await stored(file.object)).toBe(false);
  });

  it('runs only for the secret, and the RPC only for the service role', async () => {
    const user = await signIn(freshEmail('refused'));
    const file = await upload(user);
    await advance(2 * HOUR);
    const handler = syncSweepHandler({ client: service, secret: SECRET });
    const get = await handler(new Request('http://127.0.0.1/', { method: 'GET' }));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(handler)).status).toBe(401);
    expect((await post(handler, `Bearer ${project.anonKey}`)).status).toBe(401);
    expect((await post(handler, `Bearer ${SECRET}x`)).status).toBe(401);
    expect(await stored(file.object)).toBe(true);

    // The RPC refuses signed-in users and anon; the service role may call it, with a sane size.
    const asUser = await user.supabase.rpc('syncline_sweep_assets', { max_objects: 10 });
    expect(asUser.error?.code).toBe('42501');
    const asAnon = await project.createClient().rpc('syncline_sweep_assets', { max_objects: 10 });
    expect(asAnon.error?.code).toBe('42501');
    const tooMany = await service.rpc('syncline_sweep_assets', { max_objects: 0 });
    expect(tooMany.error?.code).toBe('22023');
    expect(tooMany.status).toBe(400);
    expect(await stored(file.object)).toBe(true);

    expect((await post(handler, `Bearer ${SECRET}`)).status).toBe(200);
    expect(await stored(file.object)).toBe(false);
  });

  it('a client without the service role answers 502 and says why; bad options throw', async () => {
    const handler = syncSweepHandler({ client: project.createClient(), secret: SECRET });
    const answer = await post(handler, `Bearer ${SECRET}`);
    expect(answer.status).toBe(502);
    const body = (await answer.json()) as { error: { kind: string; message: string } };
    expect(body.error.kind).toBe('auth');
    expect(body.error.message).toMatch(/permission denied/);
    const misconfigured = (options: Partial<Parameters<typeof syncSweepHandler>[0]>) => {
      try {
        syncSweepHandler({ client: service, secret: SECRET, ...options });
        return undefined;
      } catch (error) {
        return isSyncError(error) ? error.kind : error;
      }
    };
    expect(misconfigured({ secret: '' })).toBe('misconfigured');
    expect(misconfigured({ batchSize: 1001 })).toBe('misconfigured');
    expect(misconfigured({ maxRounds: 0 })).toBe('misconfigured');
  });
}
