-- syncline tables mode: sync the app's own tables (supabaseTablesTransport).
--
-- An opt-in helper, apart from the numbered migrations of syncline's own tables (sql/0001...):
-- an app that keeps its data in its own tables applies this file alone (it needs nothing from
-- the syncline schema), then installs the helper on each synced table:
--
--   SELECT syncline_tables.install('public.projects');                     -- owned by user_id
--   SELECT syncline_tables.install('public.messages',
--     owner => '(SELECT c.user_id FROM public.conversations c WHERE c.id = conversation_id)');
--
-- What a synced table needs: a unique `id` (any type with a text form; or unique together
-- with an owner column, when row-level security shows each user one owner's rows), row-level security
-- policies that say who may read and write which rows (the functions below are SECURITY
-- INVOKER: they see and change exactly what the signed-in user may), and the columns
-- `revision bigint`, `updated_at timestamptz`, `deleted_at timestamptz` (install adds the
-- ones that are missing). Deletes are soft: set `deleted_at`; a row removed with DELETE is
-- never seen by the clients that already have it.
--
-- Why a late commit is never skipped. Every write gets `revision` = the writing
-- transaction's id (pg_current_xact_id(); for an update, at least the old revision + 1, so a
-- row's revision only grows), and `updated_at` = now(), both set by the trigger: client values
-- are overwritten, client clocks never trusted. A pull returns only rows whose revision is
-- below the xmin of its own snapshot, i.e. below the id of every transaction still in flight.
-- A transaction still running has an id >= that xmin, so each of its rows has a revision >=
-- xmin: none can be below a cursor that a pull already passed. When it commits, its rows come
-- after the cursor and the next pull returns them. Rows held back this way are reported
-- (`held`), so the client pulls again shortly instead of waiting for the next change.
--
-- Safe to apply again (CREATE OR REPLACE, DROP ... IF EXISTS).

CREATE SCHEMA IF NOT EXISTS syncline_tables;
REVOKE ALL ON SCHEMA syncline_tables FROM PUBLIC;

-- BEFORE INSERT OR UPDATE: the server's revision and updated_at.
CREATE OR REPLACE FUNCTION syncline_tables.stamp()
RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $fn$
DECLARE
  xid bigint := pg_current_xact_id()::text::bigint;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.revision := greatest(xid, OLD.revision + 1);
  ELSE
    NEW.revision := xid;
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$fn$;

-- AFTER INSERT / UPDATE, per statement: one poke per owner whose rows changed, on the private
-- Realtime channel 'syncline:user:<owner>' (Broadcast from Database). TG_ARGV[0] is the owner
-- expression given to install. SECURITY DEFINER: finding a parent row's owner must not depend
-- on what the writer may read; nothing but the owner id and a revision leaves the function.
CREATE OR REPLACE FUNCTION syncline_tables.poke()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  target record;
  origin text := coalesce(nullif(current_setting('syncline.client_id', true), ''), 'database');
BEGIN
  IF to_regprocedure('realtime.send(jsonb,text,text,boolean)') IS NULL THEN
    RETURN NULL;
  END IF;
  FOR target IN EXECUTE format(
    'SELECT owner, max(revision) AS version FROM (
       SELECT (%1$s)::text AS owner, revision FROM new_rows
       %2$s) AS changed
     WHERE owner IS NOT NULL GROUP BY owner',
    TG_ARGV[0],
    CASE WHEN TG_OP = 'UPDATE'
      THEN format('UNION ALL SELECT (%s)::text, revision FROM old_rows', TG_ARGV[0]) ELSE '' END)
  LOOP
    PERFORM realtime.send(
      jsonb_build_object('scope', 'user:' || target.owner, 'version', target.version,
                         'originClientId', origin),
      'poke', 'syncline:user:' || target.owner, true);
  END LOOP;
  RETURN NULL;
END
$fn$;

-- Installs the helper on a table. Run it as the table's owner (in a migration), never from a
-- client: EXECUTE is revoked from the API roles.
CREATE OR REPLACE FUNCTION syncline_tables.install(tbl regclass, owner text DEFAULT 'user_id')
RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $fn$
DECLARE
  name text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl);
  rls boolean := (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = tbl);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = tbl AND a.attname = 'id' AND NOT a.attisdropped) THEN
    RAISE EXCEPTION 'syncline_tables.install: % has no id column', tbl
      USING ERRCODE = '42703', HINT = 'a synced table needs a unique id column';
  END IF;
  -- id alone, or id with other columns (an owner or tenant column): then id must be unique
  -- among the rows one user may see, which row-level security has to ensure.
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = tbl AND i.indisunique AND a.attname = 'id') THEN
    RAISE EXCEPTION 'syncline_tables.install: id of % is not unique', tbl
      USING ERRCODE = '42P10', HINT = 'make id the primary key, or part of a unique key';
  END IF;
  EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 0,
                  ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now(),
                  ADD COLUMN IF NOT EXISTS deleted_at timestamptz', tbl);
  -- The owner expression must work on the table's rows (checked now, not at the first write).
  EXECUTE format('SELECT (%s)::text FROM %s LIMIT 0', owner, tbl);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (revision, id)',
                 left(name, 40) || '_syncline_revision', tbl);
  EXECUTE format('DROP TRIGGER IF EXISTS syncline_tables_stamp ON %s', tbl);
  EXECUTE format('DROP TRIGGER IF EXISTS syncline_tables_poke_insert ON %s', tbl);
  EXECUTE format('DROP TRIGGER IF EXISTS syncline_tables_poke_update ON %s', tbl);
  EXECUTE format('CREATE TRIGGER syncline_tables_stamp BEFORE INSERT OR UPDATE ON %s
                  FOR EACH ROW EXECUTE FUNCTION syncline_tables.stamp()', tbl);
  -- Rows already there get a revision (and an updated_at) now.
  EXECUTE format('UPDATE %s SET revision = 0 WHERE revision = 0', tbl);
  EXECUTE format('CREATE TRIGGER syncline_tables_poke_insert AFTER INSERT ON %s
                  REFERENCING NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION syncline_tables.poke(%L)', tbl, owner);
  EXECUTE format('CREATE TRIGGER syncline_tables_poke_update AFTER UPDATE ON %s
                  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION syncline_tables.poke(%L)', tbl, owner);
  IF NOT rls THEN
    RAISE WARNING 'syncline_tables.install: row-level security is off on %: every signed-in user can pull and push every row', tbl
      USING HINT = format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, and add policies', tbl);
  END IF;
END
$fn$;
REVOKE ALL ON FUNCTION syncline_tables.install(regclass, text) FROM PUBLIC;

-- The table a client names, if the helper is installed on it; else 55000 (a setup mistake:
-- PostgREST answers 500, the client retries and keeps its writes).
CREATE OR REPLACE FUNCTION syncline_tables.synced_table(table_name text)
RETURNS regclass
LANGUAGE plpgsql STABLE SET search_path = ''
AS $fn$
DECLARE
  rel regclass := to_regclass(CASE WHEN position('.' IN table_name) = 0
                                   THEN 'public.' || table_name ELSE table_name END);
BEGIN
  IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                WHERE t.tgrelid = rel AND t.tgname = 'syncline_tables_stamp') THEN
    RAISE EXCEPTION 'syncline: table % is not synced', table_name
      USING ERRCODE = '55000',
            HINT = 'run SELECT syncline_tables.install(''<table>'') in a migration';
  END IF;
  RETURN rel;
END
$fn$;
GRANT USAGE ON SCHEMA syncline_tables TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION syncline_tables.synced_table(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION syncline_tables.synced_table(text) TO authenticated, service_role;

-- One page of a table's rows after the cursor (revision, id as text), oldest first, below the
-- snapshot's xmin (see the top of this file). RLS decides which rows the caller sees.
CREATE OR REPLACE FUNCTION public.syncline_tables_pull(
  table_name text, after_revision bigint, after_id text, max_rows integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, extensions
AS $fn$
DECLARE
  rel regclass := syncline_tables.synced_table(table_name);
  result jsonb;
BEGIN
  IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000 THEN
    RAISE EXCEPTION 'syncline: max_rows must be between 1 and 1000' USING ERRCODE = '22023';
  END IF;
  EXECUTE format($q$
    WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS h),
    page AS (
      SELECT to_jsonb(t) AS row, t.revision, t.id::text AS key
      FROM %1$s t, horizon
      WHERE (t.revision > $1 OR (t.revision = $1 AND t.id::text > $2)) AND t.revision < horizon.h
      ORDER BY t.revision, t.id::text
      LIMIT $3)
    SELECT jsonb_build_object(
      'rows', coalesce((SELECT jsonb_agg(page.row ORDER BY page.revision, page.key) FROM page),
                       '[]'::jsonb),
      'held', EXISTS (SELECT 1 FROM %1$s t, horizon WHERE t.revision >= horizon.h))
  $q$, rel) INTO result USING coalesce(after_revision, 0), coalesce(after_id, ''), max_rows;
  RETURN result;
END
$fn$;

-- Applies mutations to synced tables, each on its own (a savepoint each), with the revision
-- check: a mutation applies only when its base_revision is the row's revision (0: the row is
-- new). Results, in order: {id, status: 'applied', revision} | {id, status: 'conflict',
-- server: row or null} | {id, status: 'rejected', code, message}. A mutation is
--   {id, table, record_id, op: 'put' | 'patch' | 'delete', data?, base_revision}.
-- `put` and `patch` both write the columns named in data (others keep their value; a new row
-- gets the columns' defaults); revision, updated_at and deleted_at in data are ignored.
-- Errors that say "try again" (serialization, lock, connection, setup, a missing grant) fail
-- the whole call, so nothing is rejected for a reason that will pass. The search path is
-- PostgREST's (public, extensions), so the app's own triggers on its tables run as they do for
-- any PostgREST write; as SECURITY INVOKER, nothing runs with more rights than the caller's.
CREATE OR REPLACE FUNCTION public.syncline_tables_push(client_id text, mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, extensions
AS $fn$
DECLARE
  m jsonb;
  rel regclass;
  id_type text;
  base bigint;
  cur jsonb;
  written jsonb;
  data jsonb;
  cols text[];
  unknown text[];
  results jsonb := '[]'::jsonb;
  result jsonb;
BEGIN
  IF jsonb_typeof(mutations) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'syncline: mutations must be a JSON array' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('syncline.client_id', coalesce(client_id, ''), true);
  FOR m IN SELECT value FROM jsonb_array_elements(mutations) LOOP
    rel := syncline_tables.synced_table(m ->> 'table');
    BEGIN
      IF m ->> 'op' NOT IN ('put', 'patch', 'delete') OR m ->> 'record_id' IS NULL
         OR jsonb_typeof(m -> 'base_revision') IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION 'syncline: malformed mutation %', m ->> 'id' USING ERRCODE = '22023';
      END IF;
      base := (m ->> 'base_revision')::bigint;
      data := coalesce(m -> 'data', '{}'::jsonb) - ARRAY['id', 'revision', 'updated_at', 'deleted_at'];
      IF jsonb_typeof(data) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'syncline: data of % must be an object', m ->> 'id' USING ERRCODE = '22023';
      END IF;
      SELECT format_type(a.atttypid, a.atttypmod) INTO id_type FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = rel AND a.attname = 'id';
      SELECT array_agg(k ORDER BY k) FILTER (WHERE a.attname IS NULL),
             array_agg(k ORDER BY k) FILTER (WHERE a.attname IS NOT NULL)
        INTO unknown, cols
      FROM jsonb_object_keys(data) AS k
      LEFT JOIN pg_catalog.pg_attribute a
        ON a.attrelid = rel AND a.attname = k AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = '' AND a.attidentity <> 'a';
      IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'syncline: % has no writable column %', rel, array_to_string(unknown, ', ')
          USING ERRCODE = '42703';
      END IF;
      EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE t.id = $1::%s FOR UPDATE', rel, id_type)
        INTO cur USING m ->> 'record_id';
      IF cur IS NULL AND m ->> 'op' = 'delete' THEN
        -- Nothing to delete (never created, or not this user's): what the delete wanted.
        result := jsonb_build_object('status', 'applied', 'revision', greatest(base, 1));
      ELSIF cur IS NULL AND base <> 0 THEN
        result := jsonb_build_object('status', 'conflict', 'server', NULL);
      ELSIF cur IS NOT NULL AND (cur ->> 'revision')::bigint <> base THEN
        result := jsonb_build_object('status', 'conflict', 'server', cur);
      ELSIF cur IS NULL THEN
        EXECUTE format(
          'INSERT INTO %1$s AS t (id%2$s) SELECT r.id%3$s
           FROM jsonb_populate_record(NULL::%1$s, $1) AS r RETURNING to_jsonb(t)',
          rel,
          coalesce((SELECT string_agg(', ' || quote_ident(c), '') FROM unnest(cols) AS c), ''),
          coalesce((SELECT string_agg(', r.' || quote_ident(c), '') FROM unnest(cols) AS c), ''))
          INTO written USING data || jsonb_build_object('id', m ->> 'record_id');
        result := jsonb_build_object('status', 'applied', 'revision', written -> 'revision');
      ELSIF m ->> 'op' = 'delete' THEN
        EXECUTE format('UPDATE %s AS t SET deleted_at = now() WHERE t.id = $1::%s
                        RETURNING to_jsonb(t)', rel, id_type)
          INTO written USING m ->> 'record_id';
        result := jsonb_build_object('status', 'applied', 'revision', written -> 'revision');
      ELSE
        -- A put or patch on the revision it read: writes the named columns (and brings a
        -- tombstone back, when the client wrote on top of it knowingly).
        EXECUTE format(
          'UPDATE %1$s AS t SET deleted_at = NULL%2$s
           FROM jsonb_populate_record(NULL::%1$s, $1) AS r WHERE t.id = $2::%3$s
           RETURNING to_jsonb(t)',
          rel,
          coalesce((SELECT string_agg(format(', %1$I = r.%1$I', c), '') FROM unnest(cols) AS c), ''),
          id_type)
          INTO written USING data, m ->> 'record_id';
        result := jsonb_build_object('status', 'applied', 'revision', written -> 'revision');
      END IF;
    EXCEPTION WHEN OTHERS THEN
      IF SQLSTATE ~ '^(40|53|54|55|57|58|08|XX)' OR SQLERRM LIKE 'permission denied%' THEN
        RAISE;
      END IF;
      result := jsonb_build_object(
        'status', 'rejected',
        'code', CASE WHEN SQLSTATE = '42501' THEN 'forbidden' ELSE 'invalid' END,
        'message', SQLERRM);
    END;
    results := results || jsonb_build_array(result || jsonb_build_object('id', m -> 'id'));
  END LOOP;
  RETURN jsonb_build_object('results', results);
END
$fn$;

REVOKE ALL ON FUNCTION public.syncline_tables_pull(text, bigint, text, integer) FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.syncline_tables_push(text, jsonb) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.syncline_tables_pull(text, bigint, text, integer)
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.syncline_tables_push(text, jsonb) TO authenticated, service_role;

-- The owner of synced rows may join 'syncline:user:<own id>' and receive its pokes.
DO $syncline$
BEGIN
  IF to_regclass('realtime.messages') IS NOT NULL THEN
    DROP POLICY IF EXISTS syncline_tables_owner_receives_pokes ON realtime.messages;
    CREATE POLICY syncline_tables_owner_receives_pokes ON realtime.messages
      FOR SELECT TO authenticated
      USING (realtime.messages.extension = 'broadcast'
             AND (SELECT realtime.topic()) = 'syncline:user:' || (SELECT auth.uid())::text);
  END IF;
END
$syncline$;
