/** The SQL suite on PGlite, and the generated schema file's freshness. */
import { readFileSync } from 'node:fs';
import { MIGRATIONS } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { renderSchemaSql } from '../scripts/schema-sql.js';
import { renderSessionsSql } from '../scripts/sessions-sql.js';
import { renderTransfersSql } from '../scripts/transfers-sql.js';
import { sqlSuite } from './sql.suite.js';

describe('the Supabase SQL on PGlite', () => {
  it("sql/0001_syncline_schema.sql is the rendering of the server's migrations (npm run generate:sql)", () => {
    const committed = readFileSync(
      new URL('../sql/0001_syncline_schema.sql', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderSchemaSql(MIGRATIONS));
  });
  it("sql/0003_syncline_sessions.sql is the rendering with the server's targeting conditions (npm run generate:sql)", () => {
    const committed = readFileSync(
      new URL('../sql/0003_syncline_sessions.sql', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderSessionsSql());
  });
  it("sql/0005_syncline_transfers.sql is the rendering with the server's transfer rules (npm run generate:sql)", () => {
    const committed = readFileSync(
      new URL('../sql/0005_syncline_transfers.sql', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderTransfersSql());
  });
  sqlSuite(() => 'pglite');
});
