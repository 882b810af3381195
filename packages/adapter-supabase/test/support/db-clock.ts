/**
 * The database clock of the session-targeting SQL, made movable for tests:
 * `syncline.now_ms()` is replaced to add an offset kept in `standin.clock`.
 */
import type { SqlQueryable } from '@syncline/server';

const CLOCK_SQL = `
CREATE SCHEMA IF NOT EXISTS standin;
CREATE TABLE IF NOT EXISTS standin.clock (offset_ms bigint NOT NULL);
INSERT INTO standin.clock SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM standin.clock);
CREATE OR REPLACE FUNCTION syncline.now_ms() RETURNS bigint LANGUAGE sql VOLATILE SET search_path = ''
AS $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
             + (SELECT c.offset_ms FROM standin.clock c) $$;
REVOKE ALL ON FUNCTION syncline.now_ms() FROM PUBLIC;`;

/** Makes `syncline.now_ms()` movable; answers the function that moves it forward by `ms`. */
export async function movableClock(admin: SqlQueryable): Promise<(ms: number) => Promise<unknown>> {
  await admin.exec(CLOCK_SQL);
  return (ms) => admin.query('UPDATE standin.clock SET offset_ms = offset_ms + $1', [ms]);
}
