/**
 * The hot paths as server-side functions (migration 2), so a push costs two calls between
 * BEGIN and COMMIT and a pull one statement, whatever its size. Round trips are the cost that
 * matters: on PGlite every statement is parsed, planned and run in WASM on one connection, and
 * on PostgreSQL every statement is a network round trip while the scope row lock is held.
 * PL/pgSQL also keeps the plans of its statements for the session (prepared once).
 *
 * `push_read` (VOLATILE: every statement takes a fresh snapshot, as separate statements did):
 * 1. lock every written scope's row, one at a time in the caller's (sorted) order, so two
 *    pushes never deadlock on scopes, and return the versions;
 * 2. claim every mutation id (`INSERT ... ON CONFLICT DO NOTHING`: a concurrent push of the
 *    same id waits here until it commits or rolls back);
 * 3. return the stored outcomes of the ids not claimed, read after the claim wait, so an
 *    outcome committed meanwhile is seen;
 * 4. return the records the push touches, read after the scope locks are held, so every push
 *    committed before this one is visible.
 *
 * `push_write` writes the records, stores the outcomes, releases the claims of conflicts,
 * raises the scope versions and NOTIFYs (delivered only on commit), in that order.
 *
 * `pull_changes` (migration 4) replaced `pull_page` on the pull path: the same reads, the page
 * rendered in its wire shape (see {@link PULL_CHANGES_SQL}). Migration 5 (`push-sql.ts`) redefines
 * the two push functions with index-only lookups and adds the optimistic push.
 *
 * `pull_page` (migration 3; STABLE: its statements share the calling statement's snapshot, so the scope
 * row and the page agree, as a REPEATABLE READ transaction did). Its SET clauses make the
 * planner read the page in `(scope, revision)` index order and stop at the LIMIT whatever the
 * table statistics say: on a freshly bulk-loaded, not yet analysed table the planner otherwise
 * sorted the whole rest of the scope for every page.
 *
 * Every value arrives as a bound parameter (one JSON document, unpacked by
 * `jsonb_to_recordset`, which both drivers bind the same way).
 *
 * @module
 */

/** The SQL of migration 2 (the push functions; its first `pull_page` is replaced by migration 3). */
export const FUNCTIONS_SQL = `
CREATE OR REPLACE FUNCTION syncline.push_read(p jsonb)
RETURNS TABLE (kind text, scope text, collection text, id text, data jsonb, revision bigint,
               hlc text, deleted boolean, user_id text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  s text;
  v bigint;
  claimed text[];
BEGIN
  FOR s IN
    SELECT e FROM jsonb_array_elements_text(p->'scopes') WITH ORDINALITY AS t(e, n) ORDER BY n
  LOOP
    -- Upsert + DO UPDATE takes the row lock whether the row existed or not.
    INSERT INTO syncline.scopes AS sc (scope) VALUES (s)
    ON CONFLICT (scope) DO UPDATE SET version = sc.version
    RETURNING sc.version INTO v;
    RETURN QUERY SELECT 'scope'::text, s, NULL::text, NULL::text, NULL::jsonb, v, NULL::text,
                        NULL::boolean, NULL::text;
  END LOOP;

  WITH c AS (
    INSERT INTO syncline.mutations AS mu (id, user_id, client_id, scope, outcome, created_at)
    SELECT x.id, p->>'user', p->>'client', x.scope, NULL, (p->>'now')::bigint
    FROM jsonb_to_recordset(p->'claims') AS x(id text, scope text)
    ORDER BY x.id
    ON CONFLICT (id) DO NOTHING
    RETURNING mu.id)
  SELECT coalesce(array_agg(c.id), '{}') INTO claimed FROM c;

  IF cardinality(claimed) < jsonb_array_length(p->'claims') THEN
    RETURN QUERY
    SELECT 'prior'::text, NULL::text, NULL::text, m.id, m.outcome, NULL::bigint, NULL::text,
           NULL::boolean, m.user_id
    FROM syncline.mutations m
    WHERE m.id IN (SELECT x.id FROM jsonb_to_recordset(p->'claims') AS x(id text)
                   WHERE NOT (x.id = ANY (claimed)))
      AND m.outcome IS NOT NULL;
  END IF;

  IF jsonb_array_length(p->'keys') > 0 THEN
    RETURN QUERY
    SELECT 'record'::text, r.scope, r.collection, r.id, r.data, r.revision, r.hlc, r.deleted,
           NULL::text
    FROM syncline.records r
    WHERE (r.scope, r.collection, r.id) IN (
      SELECT k.scope, k.collection, k.id
      FROM jsonb_to_recordset(p->'keys') AS k(scope text, collection text, id text));
  END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION syncline.push_write(p jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  IF jsonb_array_length(p->'writes') > 0 THEN
    INSERT INTO syncline.records AS r
      (scope, collection, id, data, revision, hlc, deleted, deleted_at)
    SELECT x.scope, x.collection, x.id, x.data, x.revision, x.hlc, x.deleted,
           CASE WHEN x.deleted THEN (p->>'now')::bigint END
    FROM jsonb_to_recordset(p->'writes')
      AS x(scope text, collection text, id text, data jsonb, revision bigint, hlc text,
           deleted boolean)
    ON CONFLICT (scope, collection, id) DO UPDATE SET
      data = EXCLUDED.data, revision = EXCLUDED.revision, hlc = EXCLUDED.hlc,
      deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at;
  END IF;
  IF jsonb_array_length(p->'outcomes') > 0 THEN
    UPDATE syncline.mutations AS m SET outcome = x.outcome
    FROM jsonb_to_recordset(p->'outcomes') AS x(id text, outcome jsonb)
    WHERE m.id = x.id AND m.outcome IS NULL;
  END IF;
  IF jsonb_array_length(p->'released') > 0 THEN
    DELETE FROM syncline.mutations
    WHERE id IN (SELECT jsonb_array_elements_text(p->'released')) AND outcome IS NULL;
  END IF;
  IF jsonb_array_length(p->'versions') > 0 THEN
    UPDATE syncline.scopes AS s SET version = x.version
    FROM jsonb_to_recordset(p->'versions') AS x(scope text, version bigint)
    WHERE s.scope = x.scope;
  END IF;
  IF jsonb_array_length(p->'pokes') > 0 THEN
    PERFORM pg_notify(p->>'channel', e) FROM jsonb_array_elements_text(p->'pokes') AS e;
  END IF;
END
$fn$;
`;

/**
 * The SQL of migration 3: `pull_page` answers ONE row, the scope's version and purge horizon
 * and the page as one JSON text (`[[scope, collection, id, data, revision, hlc, deleted], ...]`
 * in revision order). Drivers decode rows and jsonb columns one by one; one `JSON.parse` of the
 * whole page is ~3x cheaper for a 1000-row page on PGlite, and no set of rows is materialised.
 */
export const PULL_PAGE_JSON_SQL = `
DROP FUNCTION IF EXISTS syncline.pull_page(text, bigint, integer);
CREATE FUNCTION syncline.pull_page(p_scope text, p_after bigint, p_limit integer)
RETURNS TABLE (version bigint, purged_through bigint, page text)
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
  pg text;
BEGIN
  SELECT s.version, s.purged_through INTO v, pt FROM syncline.scopes s WHERE s.scope = p_scope;
  v := coalesce(v, 0);
  pt := coalesce(pt, 0);
  -- The caller's rule: a checkpoint ahead of the scope or behind the purge horizon (or none,
  -- or one not issued here: NULL) starts from the beginning.
  IF p_after IS NOT NULL AND p_after <= v AND p_after >= pt THEN
    a := p_after;
  END IF;
  SELECT coalesce(json_agg(json_build_array(r.scope, r.collection, r.id, r.data, r.revision,
                                            r.hlc, r.deleted) ORDER BY r.revision), '[]')::text
  INTO pg
  FROM (SELECT * FROM syncline.records r
        WHERE r.scope = p_scope AND r.revision > a
        ORDER BY r.revision
        LIMIT p_limit) AS r;
  RETURN QUERY SELECT v, pt, pg;
END
$fn$;
`;

/**
 * The SQL of migration 4: `pull_changes` answers ONE row whose `changes` is the page already in
 * its wire shape (`[{"scope":..,"collection":..,"id":..,"data":..,"revision":..,"hlc":..,
 * "deleted":..}, ...]`, revision order, a tombstone's data `null`, a live record's data never
 * `null`), so the server splices it into the response body without parsing or re-serialising a
 * record. It reads at most `p_limit` rows; `has_more` is one index probe past the last one.
 * `pull_page` (migration 3) stays for servers of the previous release on the same database.
 */
export const PULL_CHANGES_SQL = `
CREATE FUNCTION syncline.pull_changes(p_scope text, p_after bigint, p_limit integer)
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
  -- The caller's rule: a checkpoint ahead of the scope or behind the purge horizon (or none,
  -- or one not issued here: NULL) starts from the beginning.
  IF p_after IS NOT NULL AND p_after <= v AND p_after >= pt THEN
    a := p_after;
  END IF;
  -- json_agg of the row: its keys are the column names below, in this order.
  SELECT json_agg(r ORDER BY r.revision)::text, count(*), max(r.revision)
  INTO ch, n, last
  FROM (SELECT r.scope, r.collection, r.id,
               CASE WHEN r.deleted THEN NULL ELSE coalesce(r.data, '{}'::jsonb) END AS data,
               r.revision, r.hlc, r.deleted
        FROM syncline.records r
        WHERE r.scope = p_scope AND r.revision > a
        ORDER BY r.revision
        LIMIT p_limit) AS r;
  IF n >= p_limit THEN
    more := EXISTS (SELECT 1 FROM syncline.records r
                    WHERE r.scope = p_scope AND r.revision > last);
  END IF;
  RETURN QUERY SELECT v, pt, coalesce(ch, '[]'), last, more;
END
$fn$;
`;
