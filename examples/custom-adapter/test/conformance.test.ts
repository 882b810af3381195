/** The custom adapter of docs/custom-adapter.md keeps every rule of the conformance kit. */
import { createSessionSource } from '@syncline/sync-core';
import { describeTransportConformance } from '@syncline/sync-core/testing';
import { describe, it } from 'vitest';
import { DocumentDb } from '../src/document-db.js';
import { documentTransport } from '../src/document-transport.js';

const db = new DocumentDb();

describeTransportConformance(
  { describe, it },
  {
    name: 'documentTransport (the custom adapter guide)',
    connect: (userId) =>
      documentTransport({ db, session: createSessionSource({ userId, sessionId: 'device-1' }) }),
    // Signed out: the database refuses every call.
    connectUnauthorized: () => documentTransport({ db, session: createSessionSource(null) }),
  },
);
