/**
 * Writes the generated SQL files: `sql/0001_syncline_schema.sql` from the server's migrations
 * (see `schema-sql.ts`), `sql/0003_syncline_sessions.sql` with the server's targeting
 * conditions (see `sessions-sql.ts`) and `sql/0005_syncline_transfers.sql` with its transfer
 * rules (see `transfers-sql.ts`).
 */
import { writeFileSync } from 'node:fs';
import { MIGRATIONS } from '@syncline/server';
import { renderSchemaSql } from './schema-sql.js';
import { renderSessionsSql } from './sessions-sql.js';
import { renderTransfersSql } from './transfers-sql.js';

for (const [name, sql] of [
  ['0001_syncline_schema.sql', renderSchemaSql(MIGRATIONS)],
  ['0003_syncline_sessions.sql', renderSessionsSql()],
  ['0005_syncline_transfers.sql', renderTransfersSql()],
] as const) {
  const target = new URL(`../sql/${name}`, import.meta.url);
  writeFileSync(target, sql);
  console.log(`wrote ${target.pathname}`);
}
