import { freshDatabase } from '../../../../test/support/postgres.js';
import {
  createSyncHandler,
  devAuth,
  pgliteStore,
  postgresStore,
  type SyncStore,
} from '../../../server/src/index.js';
import { serve } from '../../../server/src/node.js';

/** Which database the server runs on. */
export type StoreKind = { kind: 'pglite' } | { kind: 'postgres'; adminUrl: string };

/** A running server. */
export interface TestServer {
  url: string;
  store: SyncStore;
  close(): Promise<void>;
}

/** Starts the server; `close` stops it and drops its database. */
export async function startServer(kind: StoreKind): Promise<TestServer> {
  let dropDatabase = async () => {};
  let store: SyncStore;
  if (kind.kind === 'pglite') {
    store = await pgliteStore();
  } else {
    const database = await freshDatabase(kind.adminUrl, 'syncline_rest');
    dropDatabase = database.drop;
    store = await postgresStore({ connectionString: database.url });
  }
  const auth = devAuth();
  const handler = createSyncHandler({
    store,
    authenticate: auth.authenticate,
    devAuth: auth,
    limits: { rateLimit: false },
  });
  const running = await serve(handler, { port: 0, onError: () => undefined });
  return {
    url: running.url,
    store,
    async close() {
      handler.closeStreams();
      await running.close();
      await store.close();
      await dropDatabase();
    },
  };
}
