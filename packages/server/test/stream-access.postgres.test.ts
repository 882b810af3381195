import { afterAll, beforeAll } from 'vitest';
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import type { SyncStore } from '../src/store/types.js';
import { streamAccessTests } from './stream-access-suite.js';
import { openPostgresStore } from './support.js';

describePostgres()('event streams end when access does, on PostgreSQL', () => {
  let fixture: { store: SyncStore; close(): Promise<void> };
  beforeAll(async () => {
    fixture = await openPostgresStore(postgresUrl() as string);
  });
  afterAll(async () => {
    await fixture?.close();
  });
  streamAccessTests(() => fixture.store);
});
