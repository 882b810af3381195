/**
 * The push as server-side functions, so a push costs one or two calls whatever its size (round
 * trips are the cost that matters: on PGlite every statement is parsed, planned and run in WASM
 * on one connection, and on PostgreSQL every statement is a network round trip while the scope
 * row lock is held). PL/pgSQL keeps the plans of its statements for the session.
 *
 * The optimistic way, two autocommit statements, so the scope row locks are held only while
 * the second one runs and commits, never across a round trip and the JavaScript that decides:
 *
 * - `push_snapshot` (STABLE: its statements share one snapshot) reads, without locking, what the
 *   decision needs: the version and purge horizon of every written scope (0 for a scope without
 *   a row), the stored outcomes of the push's ids and the records it touches.
 * - `push_apply` then locks the scope rows in the caller's (sorted) order, the same order as
 *   `push_read` and a purge, and checks that every version and purge horizon still equals what
 *   the snapshot saw. Every record change bumps its scope's version under that lock (and a purge
 *   its horizon), so equal values mean the records the decision read are still the current
 *   ones. It stores the outcomes with `INSERT ... ON CONFLICT DO NOTHING` (an id another push
 *   stored meanwhile, or still holds, waits for it and then conflicts), writes the records,
 *   raises the versions and NOTIFYs. When a scope moved or an id was taken it raises SQLSTATE
 *   `SL409` and the statement rolls back as a whole: the caller runs the push again the locking
 *   way, which always completes.
 *
 * The locking way, inside one transaction (`push-transaction.ts`):
 *
 * - `push_read` (VOLATILE: every statement takes a fresh snapshot) locks every written scope's
 *   row in the caller's order and returns the versions; claims every mutation id (`INSERT ...
 *   ON CONFLICT DO NOTHING`: a concurrent push of the same id waits until it commits or rolls
 *   back); returns the stored outcomes of the ids not claimed, read after the claim wait; and
 *   returns the records the push touches, read after the scope locks are held.
 * - `push_write` writes the records, stores the outcomes, releases the claims of conflicts,
 *   raises the scope versions and NOTIFYs (delivered only on commit), in that order.
 *
 * Every record row keeps its wire JSON (`wire`, the record exactly as a pull page carries it,
 * rendered by `recordWrite` in `rows.ts`), so a pull page is a concatenation of stored texts;
 * `data` (jsonb) is parsed from it by the database. A row written without a text gets `wire`
 * NULL and the pull renders it from its columns.
 *
 * Every push function reads by primary key only: their statements touch at most one push's
 * rows, and a plan made while the tables were small (a sequential scan, a hash join over the
 * whole table) must not stay in use while the tables grow (it made a push of 100 cost O(table
 * size): 3 ms at 3,000 rows, 8 ms at 10,000). Every value arrives as a bound parameter (one JSON
 * document, unpacked by `jsonb_to_recordset`, which both drivers bind the same way).
 *
 * @module
 */

/** SQLSTATE raised by `push_apply` when the snapshot it was decided on is out of date. */
export const STALE_SNAPSHOT_SQLSTATE = 'SL409';

// Only index scans: a plan kept from when the tables were empty must not scan them whole.
/** Planner settings of every push function: index scans only. */
const POINT_LOOKUPS = `
SET enable_seqscan = off
SET enable_bitmapscan = off`;

const RAISE_STALE = (what: string) =>
  `RAISE EXCEPTION '${what} since the push read it' USING ERRCODE = '${STALE_SNAPSHOT_SQLSTATE}';`;

// Lookups by key go through LATERAL subqueries driven by the push's own (small) lists (their
// LIMIT 1 keeps the planner from flattening them into a join), or through "= ANY (array)": no
// join between a JSON list and a table is left to the planner, whose choice for a table it has
// no statistics of yet (a hash join over the whole table) would stay in the function's cached
// plans while the table grows.

/** The locking read. */
const PUSH_READ_SQL = `
CREATE OR REPLACE FUNCTION syncline.push_read(p jsonb)
RETURNS TABLE (kind text, scope text, collection text, id text, data jsonb, revision bigint,
               hlc text, deleted boolean, user_id text)
LANGUAGE plpgsql VOLATILE ${POINT_LOOKUPS}
AS $fn$
#variable_conflict use_column
DECLARE
  s text;
  v bigint;
  claimed text[];
BEGIN
  FOR s IN
    SELECT e FROM jsonb_array_elements_text(p->'scopes') WITH ORDINALITY AS t(e, n) ORDER BY n
  LOOP
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
    WHERE m.id = ANY (ARRAY(SELECT x.id FROM jsonb_to_recordset(p->'claims') AS x(id text)
                            WHERE NOT (x.id = ANY (claimed))))
      AND m.outcome IS NOT NULL;
  END IF;

  IF jsonb_array_length(p->'keys') > 0 THEN
    RETURN QUERY
    SELECT 'record'::text, r.scope, r.collection, r.id, r.data, r.revision, r.hlc, r.deleted,
           NULL::text
    FROM jsonb_to_recordset(p->'keys') AS k(scope text, collection text, id text)
    CROSS JOIN LATERAL (
      SELECT * FROM syncline.records r
      WHERE r.scope = k.scope AND r.collection = k.collection AND r.id = k.id
      LIMIT 1) AS r;
  END IF;
END
$fn$;
`;

/** Writes every record of a push with its wire text, `data` parsed from it (shared by `push_write` and `push_apply`). */
const WRITE_RECORDS = `
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

/** Raises the scope versions and NOTIFYs (shared by `push_write` and `push_apply`). */
const RAISE_VERSIONS_AND_NOTIFY = `
  IF jsonb_array_length(p->'versions') > 0 THEN
    SELECT jsonb_object_agg(u.scope, u.version) INTO vs
    FROM jsonb_to_recordset(p->'versions') AS u(scope text, version bigint);
    UPDATE syncline.scopes AS s SET version = (vs->>s.scope)::bigint
    WHERE s.scope = ANY (ARRAY(SELECT jsonb_object_keys(vs)));
  END IF;
  IF jsonb_array_length(p->'pokes') > 0 THEN
    PERFORM pg_notify(p->>'channel', e) FROM jsonb_array_elements_text(p->'pokes') AS e;
  END IF;`;

/** The locking write. */
const PUSH_WRITE_SQL = `
CREATE OR REPLACE FUNCTION syncline.push_write(p jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE ${POINT_LOOKUPS}
AS $fn$
DECLARE
  outs jsonb;
  vs jsonb;
BEGIN
  ${WRITE_RECORDS}
  IF jsonb_array_length(p->'outcomes') > 0 THEN
    SELECT jsonb_object_agg(o.id, o.outcome) INTO outs
    FROM jsonb_to_recordset(p->'outcomes') AS o(id text, outcome jsonb);
    UPDATE syncline.mutations AS m SET outcome = outs->m.id
    WHERE m.id = ANY (ARRAY(SELECT jsonb_object_keys(outs))) AND m.outcome IS NULL;
  END IF;
  IF jsonb_array_length(p->'released') > 0 THEN
    DELETE FROM syncline.mutations
    WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'released'))) AND outcome IS NULL;
  END IF;
  ${RAISE_VERSIONS_AND_NOTIFY}
END
$fn$;
`;

/** The optimistic read. */
const PUSH_SNAPSHOT_SQL = `
CREATE OR REPLACE FUNCTION syncline.push_snapshot(p jsonb)
RETURNS TABLE (kind text, scope text, collection text, id text, data jsonb, revision bigint,
               hlc text, deleted boolean, user_id text, purged_through bigint)
LANGUAGE plpgsql STABLE ${POINT_LOOKUPS}
AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT 'scope'::text, x.s, NULL::text, NULL::text, NULL::jsonb, coalesce(sc.version, 0),
         NULL::text, NULL::boolean, NULL::text, coalesce(sc.purged_through, 0)
  FROM jsonb_array_elements_text(p->'scopes') AS x(s)
  LEFT JOIN LATERAL (
    SELECT * FROM syncline.scopes sc WHERE sc.scope = x.s LIMIT 1) AS sc ON true;

  RETURN QUERY
  SELECT 'prior'::text, NULL::text, NULL::text, m.id, m.outcome, NULL::bigint, NULL::text,
         NULL::boolean, m.user_id, NULL::bigint
  FROM syncline.mutations m
  WHERE m.id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'ids')))
    AND m.outcome IS NOT NULL;

  IF jsonb_array_length(p->'keys') > 0 THEN
    RETURN QUERY
    SELECT 'record'::text, r.scope, r.collection, r.id, r.data, r.revision, r.hlc, r.deleted,
           NULL::text, NULL::bigint
    FROM jsonb_to_recordset(p->'keys') AS k(scope text, collection text, id text)
    CROSS JOIN LATERAL (
      SELECT * FROM syncline.records r
      WHERE r.scope = k.scope AND r.collection = k.collection AND r.id = k.id
      LIMIT 1) AS r;
  END IF;
END
$fn$;

`;

/** The optimistic apply. */
const PUSH_APPLY_SQL = `
CREATE OR REPLACE FUNCTION syncline.push_apply(p jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE ${POINT_LOOKUPS}
AS $fn$
DECLARE
  x record;
  v bigint;
  pt bigint;
  stored bigint;
  vs jsonb;
BEGIN
  FOR x IN
    SELECT e.scope, e.version, e.purged
    FROM ROWS FROM (jsonb_to_recordset(p->'scopes') AS (scope text, version bigint, purged bigint))
         WITH ORDINALITY AS e(scope, version, purged, n)
    ORDER BY e.n
  LOOP
    -- Upsert + DO UPDATE takes the row lock whether the row existed or not.
    INSERT INTO syncline.scopes AS sc (scope) VALUES (x.scope)
    ON CONFLICT (scope) DO UPDATE SET version = sc.version
    RETURNING sc.version, sc.purged_through INTO v, pt;
    IF v <> x.version OR pt <> x.purged THEN
      ${RAISE_STALE('the scope changed')}
    END IF;
  END LOOP;

  IF jsonb_array_length(p->'outcomes') > 0 THEN
    WITH ins AS (
      INSERT INTO syncline.mutations AS mu (id, user_id, client_id, scope, outcome, created_at)
      SELECT o.id, p->>'user', p->>'client', o.scope, o.outcome, (p->>'now')::bigint
      FROM jsonb_to_recordset(p->'outcomes') AS o(id text, scope text, outcome jsonb)
      ORDER BY o.id
      ON CONFLICT (id) DO NOTHING
      RETURNING 1)
    SELECT count(*) INTO stored FROM ins;
    IF stored < jsonb_array_length(p->'outcomes') THEN
      ${RAISE_STALE('a mutation id was stored')}
    END IF;
  END IF;
  ${WRITE_RECORDS}
  ${RAISE_VERSIONS_AND_NOTIFY}
END
$fn$;
`;

/** Every push function, as `CREATE OR REPLACE` statements. */
export const PUSH_FUNCTIONS_SQL = `${PUSH_READ_SQL}${PUSH_WRITE_SQL}${PUSH_SNAPSHOT_SQL}${PUSH_APPLY_SQL}`;
