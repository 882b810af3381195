/**
 * A `GET /v1/assets/:sha256` whose blob is gone from the BlobStore while the database still
 * holds a readable copy (the sweep of another server sharing the directory, an operator, a
 * deletion racing the read): the server opens the blob before it sends the status line and
 * answers 410 `asset_gone`, never a 200 whose body breaks off.
 */
import type { Delivery } from '@syncline/sync-core/protocol';
import { expect, it } from 'vitest';
import { asset, deliveryBody, type Session, type TargetingFixture, upload } from './fixture.js';
import { newBlob } from './stories.js';

const GONE = {
  error: { code: 'asset_gone', message: 'the bytes of this asset are no longer on the server' },
};

/** The status and whole body of a GET, or the error the body ended with. */
async function get(
  f: TargetingFixture,
  who: Session,
  sha256: string,
  range?: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${f.url}/v1/assets/${sha256}`, {
    headers: { authorization: `Bearer ${who.token}`, ...(range === undefined ? {} : { range }) },
  });
  const text = await response.text().catch((error: unknown) => `body cut: ${String(error)}`);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body };
}

/** The tests of a blob gone under a readable copy. */
export function blobGoneSuite(fixture: () => TargetingFixture): void {
  it('a GET of an asset whose blob file is gone answers 410 asset_gone (whole and ranged), not a 200 cut short', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const file = asset(1_500_000, 31); // more than one read of the file store (1 MB)
    const blob = await newBlob(f, async () => {
      expect((await upload(f, a, file)).status).toBe(201);
    });
    const body = deliveryBody(a, { kind: 'asset', assetHash: file.sha256 });
    const sent = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(sent.status).toBe(201);
    expect((sent.body as { delivery: Delivery }).delivery.targetSessionIds).toEqual([b.sessionId]);
    expect((await get(f, b, file.sha256, 'bytes=0-9')).status).toBe(206);

    await f.blobs.delete(blob);
    expect(await get(f, b, file.sha256)).toEqual({ status: 410, body: GONE });
    expect(await get(f, b, file.sha256, 'bytes=1000-')).toEqual({ status: 410, body: GONE });
    expect(await get(f, a, file.sha256, 'bytes=-10')).toEqual({ status: 410, body: GONE });
    // The delivery itself is untouched: B may still acknowledge it.
    expect((await f.as(b, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })).body).toEqual({
      complete: true,
    });
    expect(f.logged).toEqual([]);
  });
}
