/**
 * The pull as one server-side function. The server reads pages with `pull_rows` (migration 6,
 * at the end of this file: the page as rows of wire texts); `pull_changes`, described here, was
 * the earlier form and stays defined, for a server of the previous release on the same
 * database during an upgrade. `pull_changes` answers ONE row, the scope's version and
 * purge horizon and the page already in its wire shape (`[{"scope":..,"collection":..,"id":..,
 * "data":..,"revision":..,"hlc":..,"deleted":..}, ...]`, revision order, a tombstone's data
 * `null`, a live record's data never `null`), so the server splices it into the response body
 * without parsing or re-serialising a record. The page is the concatenation of the rows' stored
 * wire texts (`string_agg`: ~0.25 s per 100,000 records instead of ~0.6 s on PostgreSQL and
 * ~0.7 s on PGlite for rendering every row as JSON again); a row without one is rendered from
 * its columns. It reads at most `p_limit` rows; `has_more` is one index probe past the last one.
 *
 * STABLE: its statements share the calling statement's snapshot, so the scope row and the page
 * agree. Its SET clauses make the planner read the page in `(scope, revision)` index order and
 * stop at the LIMIT whatever the table statistics say: on a freshly bulk-loaded, not yet
 * analysed table the planner otherwise sorted the whole rest of the scope for every page.
 *
 * @module
 */

/** `pull_changes`, as a `CREATE OR REPLACE` statement. */
export const PULL_FUNCTIONS_SQL = `
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

/**
 * Migration 3: `pull_changes` reads from any checkpoint the scope has reached, also one below
 * the purge horizon; whether that checkpoint must start over is decided by the caller
 * (`pull-query.ts`), which knows the horizon the checkpoint was issued under.
 */
export const PULL_BELOW_HORIZON_SQL = PULL_FUNCTIONS_SQL.replace(
  'IF p_after IS NOT NULL AND p_after <= v AND p_after >= pt THEN',
  'IF p_after IS NOT NULL AND p_after <= v THEN',
);

/**
 * Migration 6: `pull_rows` answers the page as ROWS, one per record with its stored wire text,
 * under one head row's worth of columns (the scope's version and purge horizon on every row; a
 * page without records is that one row, its `revision` and `wire` `NULL`). The caller orders by
 * `revision` and joins the texts. Measured in database CPU per 100,000 records (issue 10,
 * PostgreSQL 15, `bench/lib/initial-sync-breakdown.mjs` and a backend's /proc time): reading the
 * rows ~0.1 s, while `pull_changes` spent ~0.75 s, most of it copying the page's one ~250 KB text
 * (concatenated, copied into PL/pgSQL's result, framed in `[...]`, then sent).
 *
 * One statement, so the head and the page come from one snapshot, as `pull_changes`'s did. It
 * reads one row past the page (`p_limit + 1`): whether more follow, without a second probe. The
 * same rule picks where to read from (any checkpoint the scope reached; `pull-query.ts` decides
 * about the purge horizon), and the same SET clauses keep the planner on the
 * `(scope, revision)` index on a table not yet analysed.
 */
export const PULL_ROWS_SQL = `
CREATE OR REPLACE FUNCTION syncline.pull_rows(p_scope text, p_after bigint, p_limit integer)
RETURNS TABLE (version bigint, purged_through bigint, revision bigint, wire text)
LANGUAGE sql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $fn$
  SELECT h.version, h.purged_through, p.revision, p.wire
  FROM (SELECT coalesce(max(s.version), 0) AS version,
               coalesce(max(s.purged_through), 0) AS purged_through
        FROM syncline.scopes s WHERE s.scope = p_scope) AS h
  LEFT JOIN LATERAL (
    SELECT r.revision, coalesce(r.wire, (
             SELECT row_to_json(x)::text
             FROM (SELECT r.scope, r.collection, r.id,
                          CASE WHEN r.deleted THEN NULL ELSE coalesce(r.data, '{}'::jsonb) END AS data,
                          r.revision, r.hlc, r.deleted) AS x)) AS wire
    FROM syncline.records r
    WHERE r.scope = p_scope
      AND r.revision > CASE WHEN p_after IS NOT NULL AND p_after <= h.version THEN p_after ELSE 0 END
    ORDER BY r.revision
    LIMIT p_limit + 1
  ) AS p ON true
$fn$;
`;
