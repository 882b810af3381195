/** The custom adapter of docs/custom-adapter.md under the deterministic simulator's faults. */
import { createSessionSource } from '@syncline/sync-core';
import { simulate, transportBackend } from '@syncline/sync-core/testing';
import { expect, it } from 'vitest';
import { DocumentDb } from '../src/document-db.js';
import { documentTransport } from '../src/document-transport.js';

it.each([1, 2, 3])(
  'keeps every invariant under faults, seed %i',
  async (seed) => {
    let db = new DocumentDb();
    const result = await simulate({
      seed,
      ops: 150,
      clientOptions: { pullPageSize: 3 },
      backend: transportBackend({
        name: 'documents',
        reset: () => {
          db = new DocumentDb();
        },
        connect: (session) => documentTransport({ db, session: createSessionSource(session) }),
        // The document database puts no limit on a record's fields: no poison pills.
        fieldLimit: false,
      }),
    });
    expect(result.violations).toEqual([]);
    expect(result.counters.get('path.pull-more-pages')).toBeGreaterThan(0);
    expect(result.counters.get('path.dedupe-hit')).toBeGreaterThan(0);
  },
  120_000,
);
