/** Writes `sql/0001_syncline_schema.sql` from the server's migrations (see `schema-sql.ts`). */
import { writeFileSync } from 'node:fs';
import { MIGRATIONS } from '@syncline/server';
import { renderSchemaSql } from './schema-sql.js';

const target = new URL('../sql/0001_syncline_schema.sql', import.meta.url);
writeFileSync(target, renderSchemaSql(MIGRATIONS));
console.log(`wrote ${target.pathname}`);
