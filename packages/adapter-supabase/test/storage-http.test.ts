/**
 * How a Storage download's refusal is classified, for the answers the stand-in does not give:
 * older Storage versions answer a missing object 400 with `statusCode` "404" in the body, and
 * a missing bucket the same way (see targeting.suite.ts for the stand-in's 404).
 */
import type { SyncError } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';
import { rangedDownload } from '../src/storage-http.js';

const answering = (status: number, body: unknown) => ({
  url: 'http://storage.test/storage/v1',
  fetch: (async () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })) as typeof fetch,
});

const refusal = (status: number, body: unknown) =>
  rangedDownload(answering(status, body), { bucket: 'b', path: 'u/x', start: 0 }).then(
    () => undefined,
    (error: unknown) => error as SyncError,
  );

describe('rangedDownload refusals', () => {
  it("a missing object is rejected not_found, in Storage's old (400) and new forms", async () => {
    for (const [status, body] of [
      [400, { statusCode: '404', error: 'not_found', message: 'Object not found' }],
      [404, { statusCode: '404', error: 'not_found', message: 'Object not found' }],
      [404, { code: 'NoSuchKey', message: 'Object not found' }],
    ] as const) {
      const error = await refusal(status, body);
      expect([error?.kind, error?.code, error?.status]).toEqual(['rejected', 'not_found', status]);
      expect(error?.message).toBe('Storage download: Object not found');
    }
  });

  it('a missing bucket or another refusal is rejected without not_found; a 5xx stays retryable', async () => {
    const bucket = await refusal(400, {
      statusCode: '404',
      error: 'Bucket not found',
      message: 'Bucket not found',
    });
    expect([bucket?.kind, bucket?.code]).toEqual(['rejected', undefined]);
    const server = await refusal(503, { error: 'not_found', message: 'busy' });
    expect(server?.kind).toBe('server');
  });
});
