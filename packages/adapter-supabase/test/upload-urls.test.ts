/** The default store of unfinished upload URLs (the database's; see targeting.suite.ts). */
import { isSyncError } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';
import type { SupabaseClientLike } from '../src/client-like.js';
import { databaseUploadUrls } from '../src/upload-urls-rpc.js';

describe('databaseUploadUrls', () => {
  it('refuses a key that names no asset, before any call', async () => {
    const calls: string[] = [];
    const client = {
      rpc: (fn: string) => {
        calls.push(fn);
        throw new Error('not called');
      },
    } as unknown as Pick<SupabaseClientLike, 'rpc'>;
    const store = databaseUploadUrls(client);
    const error = await Promise.resolve(store.getItem('syncline-upload:u:b:not-a-hash')).catch(
      (e: unknown) => e,
    );
    expect(isSyncError(error) && error.code).toBe('invalid_request');
    expect(calls).toEqual([]);
  });
});
