/**
 * The real-server suite on a real PostgreSQL server (SYNCLINE_PG_URL, a superuser URL; the
 * suite creates and drops its own database). Skips loudly without it; CI requires it.
 */
import { describeWhen, postgresUrl } from '../../../test/support/env.js';
import { realServerSuite } from './real-server.suite.js';

const url = postgresUrl();

describeWhen(
  url,
  'PostgreSQL (SYNCLINE_PG_URL)',
  'install Debian postgresql 15, start it and export SYNCLINE_PG_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres',
)('adapter-rest against the real server on PostgreSQL', () => {
  realServerSuite(() => ({ kind: 'postgres', adminUrl: url! }));
});
