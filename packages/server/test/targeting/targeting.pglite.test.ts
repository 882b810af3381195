import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { useTargetingFixture } from './fixture.js';
import { targetingSecurity } from './security.js';
import { targetingStories } from './stories.js';

describe('session targeting over HTTP on PGlite', () => {
  const fixture = useTargetingFixture(async (options) => {
    const store = await createSqlStore(pgliteExecutor(await PGlite.create()), options);
    return { store, close: () => store.close() };
  });
  describe('the three stories', () => targetingStories(fixture));
  describe('security rules', () => targetingSecurity(fixture));
});
