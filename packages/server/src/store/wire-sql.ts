/**
 * The SQL of migration 6: every record row keeps its wire JSON (`wire`, the record exactly as a
 * pull page carries it), written by the push that wrote the row. A pull page is then the
 * concatenation of stored texts (`string_agg`), which costs ~0.25 s per 100,000 records
 * instead of ~0.6 s (PostgreSQL) to ~0.7 s (PGlite) for rendering every row as JSON again.
 *
 * The push renders the text (one `JSON.stringify` per written record, see `rows.ts`) and sends
 * it instead of the record's data; `data` (jsonb) is still stored, parsed from the text by
 * the database, so nothing that reads `data` changes. A row written without a text (by a
 * server of the previous release, or by hand) gets `wire` NULL, and the pull renders that row
 * from its columns as before.
 *
 * @module
 */
import { pushApplySql, pushWriteSql } from './push-sql.js';

/** Writes every record of a push with its wire text (`data` parsed from it). */
const WRITE_RECORDS_WITH_WIRE = `
  IF jsonb_array_length(p->'writes') > 0 THEN
    INSERT INTO syncline.records AS r
      (scope, collection, id, data, revision, hlc, deleted, deleted_at, wire)
    SELECT w.scope, w.collection, w.id,
           CASE WHEN w.deleted THEN NULL
                WHEN w.wire IS NULL THEN w.data
                ELSE (w.wire::jsonb)->'data' END,
           w.revision, w.hlc, w.deleted,
           CASE WHEN w.deleted THEN (p->>'now')::bigint END, w.wire
    FROM jsonb_to_recordset(p->'writes')
      AS w(scope text, collection text, id text, data jsonb, revision bigint, hlc text,
           deleted boolean, wire text)
    ON CONFLICT (scope, collection, id) DO UPDATE SET
      data = EXCLUDED.data, revision = EXCLUDED.revision, hlc = EXCLUDED.hlc,
      deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at, wire = EXCLUDED.wire;
  END IF;`;

/** Migration 4's `pull_changes`, concatenating the stored texts. Same arguments, same row. */
const PULL_CHANGES_FROM_WIRE_SQL = `
CREATE OR REPLACE FUNCTION syncline.pull_changes(p_scope text, p_after bigint, p_limit integer)
RETURNS TABLE (version bigint, purged_through bigint, changes text, last_revision bigint,
               has_more boolean)
LANGUAGE plpgsql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
DECLARE
  v bigint;
  pt bigint;
  a bigint := 0;
  ch text;
  n bigint;
  last bigint;
  more boolean := false;
BEGIN
  SELECT s.version, s.purged_through INTO v, pt FROM syncline.scopes s WHERE s.scope = p_scope;
  v := coalesce(v, 0);
  pt := coalesce(pt, 0);
  IF p_after IS NOT NULL AND p_after <= v AND p_after >= pt THEN
    a := p_after;
  END IF;
  SELECT '[' || coalesce(string_agg(coalesce(r.wire, (
           SELECT row_to_json(x)::text
           FROM (SELECT r.scope, r.collection, r.id,
                        CASE WHEN r.deleted THEN NULL ELSE coalesce(r.data, '{}'::jsonb) END AS data,
                        r.revision, r.hlc, r.deleted) AS x)), ',' ORDER BY r.revision), '') || ']',
         count(*), max(r.revision)
  INTO ch, n, last
  FROM (SELECT r.scope, r.collection, r.id, r.data, r.revision, r.hlc, r.deleted, r.wire
        FROM syncline.records r
        WHERE r.scope = p_scope AND r.revision > a
        ORDER BY r.revision
        LIMIT p_limit) AS r;
  IF n >= p_limit THEN
    more := EXISTS (SELECT 1 FROM syncline.records r
                    WHERE r.scope = p_scope AND r.revision > last);
  END IF;
  RETURN QUERY SELECT v, pt, ch, last, more;
END
$fn$;
`;

/** The SQL of migration 6. */
export const WIRE_TEXT_SQL = `
ALTER TABLE syncline.records ADD COLUMN wire text;
${pushWriteSql(WRITE_RECORDS_WITH_WIRE)}
${pushApplySql('CREATE OR REPLACE', WRITE_RECORDS_WITH_WIRE)}
${PULL_CHANGES_FROM_WIRE_SQL}
`;
