-- syncline on Supabase: who may sync what, the push and pull RPC functions, row-level
-- security, and Realtime pokes. Apply after 0001_syncline_schema.sql. Safe to apply more than
-- once (every statement replaces or skips what exists), and it never replaces an
-- authorize_scope function the app wrote for itself.
--
-- Identity comes only from the access token: auth.uid() and its session_id claim, checked
-- against auth.sessions. Nothing in a request names the user.

-- ---------------------------------------------------------------------------------------------
-- Access: scopes a user may read and write.
-- ---------------------------------------------------------------------------------------------

-- Members of shared scopes ('workspace:7', 'team:abc', ...). The app fills it (from its own
-- tables, with triggers, or as service_role); a user's own scope 'user:<auth.uid()>' needs no row.
CREATE TABLE IF NOT EXISTS syncline.scope_members (
  scope text NOT NULL,
  user_id uuid NOT NULL,
  can_write boolean NOT NULL DEFAULT true,
  PRIMARY KEY (scope, user_id)
);
CREATE INDEX IF NOT EXISTS scope_members_user ON syncline.scope_members (user_id);

-- The one authorisation rule, used by push, pull and the Realtime channel policy. Created only
-- when absent: an app that replaced it (CREATE OR REPLACE with the same signature) keeps its
-- own rule when this file is applied again.
DO $syncline$
BEGIN
  IF to_regprocedure('syncline.authorize_scope(uuid,text,text)') IS NULL THEN
    EXECUTE $body$
CREATE FUNCTION syncline.authorize_scope(p_user uuid, p_scope text, p_action text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $fn$
  -- p_action is 'read' or 'write'.
  SELECT p_user IS NOT NULL AND (
    p_scope = 'user:' || p_user::text
    OR EXISTS (
      SELECT 1 FROM syncline.scope_members m
      WHERE m.scope = p_scope AND m.user_id = p_user AND (p_action = 'read' OR m.can_write)))
$fn$;
$body$;
  END IF;
END
$syncline$;

-- The signed-in user, or 42501. The token's session must still exist in auth.sessions, so a
-- signed-out or revoked session stops syncing at once, not when its access token expires.
CREATE OR REPLACE FUNCTION syncline.request_user()
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  uid uuid := auth.uid();
  sid text := auth.jwt() ->> 'session_id';
BEGIN
  IF uid IS NULL THEN
    RAISE EXCEPTION 'syncline: no signed-in user in the access token'
      USING ERRCODE = '42501', HINT = 'sign in before syncing';
  END IF;
  IF sid IS NULL
     OR sid !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
     OR NOT EXISTS (SELECT 1 FROM auth.sessions s WHERE s.id = sid::uuid AND s.user_id = uid) THEN
    RAISE EXCEPTION 'syncline: the session of this access token has ended'
      USING ERRCODE = '42501', HINT = 'sign in again';
  END IF;
  RETURN uid;
END
$fn$;

-- For row-level security policies: whether the signed-in user may read p_scope.
CREATE OR REPLACE FUNCTION syncline.may_read(p_scope text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $fn$
  SELECT syncline.authorize_scope(auth.uid(), p_scope, 'read')
$fn$;

-- ---------------------------------------------------------------------------------------------
-- The push: the reference server's decision rules (push-plan.ts, decideMutation in
-- @syncline/sync-core/protocol) in PL/pgSQL, around the server's own push_read / push_write
-- (0001), which lock the scope rows, claim the mutation ids and store the outcomes.
-- ---------------------------------------------------------------------------------------------

-- Why a mutation is invalid (NULL when it is valid): the protocol's checks (validate.ts).
CREATE OR REPLACE FUNCTION syncline.mutation_problem(m jsonb, p_max_id_length integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = ''
AS $fn$
DECLARE
  k text;
  op text := m ->> 'op';
  base jsonb := m -> 'baseRevision';
BEGIN
  FOR k IN SELECT jsonb_object_keys(m) LOOP
    IF k NOT IN ('id', 'scope', 'collection', 'recordId', 'op', 'data', 'baseRevision', 'hlc', 'txId') THEN
      RETURN format('%s: unknown field', k);
    END IF;
  END LOOP;
  IF jsonb_typeof(m -> 'scope') IS DISTINCT FROM 'string'
     OR (m ->> 'scope') !~ '^[a-z][a-z0-9_-]{0,31}:[^[:space:][:cntrl:]]{1,200}$' THEN
    RETURN 'scope: expected a scope';
  END IF;
  IF jsonb_typeof(m -> 'collection') IS DISTINCT FROM 'string'
     OR (m ->> 'collection') !~ '^[A-Za-z_][A-Za-z0-9_-]{0,63}$' THEN
    RETURN 'collection: expected a collection name';
  END IF;
  IF jsonb_typeof(m -> 'recordId') IS DISTINCT FROM 'string'
     OR char_length(m ->> 'recordId') NOT BETWEEN 1 AND p_max_id_length
     OR (m ->> 'recordId') ~ '[\x01-\x1f\x7f-\x9f]' THEN
    RETURN format('recordId: expected a record id of 1-%s characters without control characters',
                  p_max_id_length);
  END IF;
  IF op IS NULL OR jsonb_typeof(m -> 'op') <> 'string' OR op NOT IN ('put', 'patch', 'delete') THEN
    RETURN 'op: expected put, patch or delete';
  END IF;
  IF op = 'delete' AND m ? 'data' THEN
    RETURN 'data: a delete carries no data';
  END IF;
  IF op <> 'delete' AND jsonb_typeof(m -> 'data') IS DISTINCT FROM 'object' THEN
    RETURN format('data: expected an object for %s', op);
  END IF;
  IF jsonb_typeof(base) IS DISTINCT FROM 'number'
     OR base::numeric <> trunc(base::numeric)
     OR base::numeric NOT BETWEEN 0 AND 9007199254740991 THEN
    RETURN 'baseRevision: expected a safe integer >= 0';
  END IF;
  IF jsonb_typeof(m -> 'hlc') IS DISTINCT FROM 'string'
     -- 12 + 1 + 4 + 1 + a node id of at most 256 (a regex bound stops at 255)
     OR char_length(m ->> 'hlc') > 274
     OR (m ->> 'hlc') !~ '^[0-9a-f]{12}:[0-9a-f]{4}:[^\x01-\x1f\x7f]+$' THEN
    RETURN 'hlc: expected an HLC timestamp';
  END IF;
  IF m ? 'txId' AND (jsonb_typeof(m -> 'txId') <> 'string'
     OR (m ->> 'txId') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') THEN
    RETURN 'txId: expected a lowercase UUID';
  END IF;
  RETURN NULL;
END
$fn$;

-- decideMutation: the record a valid mutation leads to, or a conflict, or a rejection.
-- {"kind":"ok","record":{...}} | {"kind":"conflict"} | {"kind":"reject","message":...}
CREATE OR REPLACE FUNCTION syncline.decide_mutation(m jsonb, p_current jsonb, p_revision bigint,
                                                    p_max_fields integer)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = ''
AS $fn$
DECLARE
  op text := m ->> 'op';
  base numeric := (m ->> 'baseRevision')::numeric;
  merged jsonb;
BEGIN
  IF p_current IS NULL THEN
    IF op = 'patch' OR base <> 0 THEN
      RETURN '{"kind":"conflict"}';
    END IF;
  ELSIF base <> (p_current ->> 'revision')::numeric
        OR (op = 'patch' AND (p_current ->> 'deleted')::boolean) THEN
    RETURN '{"kind":"conflict"}';
  END IF;
  IF op = 'delete' THEN
    merged := 'null';
  ELSIF op = 'put' THEN
    merged := coalesce(m -> 'data', '{}');
  ELSE
    merged := coalesce(p_current -> 'data', '{}') || (m -> 'data');
    IF (SELECT count(*) FROM jsonb_object_keys(merged)) > p_max_fields THEN
      RETURN jsonb_build_object('kind', 'reject', 'message',
        format('the patched record would have more than %s fields', p_max_fields));
    END IF;
  END IF;
  RETURN jsonb_build_object('kind', 'ok', 'record', jsonb_build_object(
    'scope', m -> 'scope', 'collection', m -> 'collection', 'id', m -> 'recordId',
    'data', merged, 'revision', p_revision, 'hlc', m -> 'hlc', 'deleted', op = 'delete'));
END
$fn$;

-- A whole push for p_user: validation, authorisation per scope, then planPush over what
-- syncline.push_read locked and read, then syncline.push_write. Returns {"results":[...]}.
CREATE OR REPLACE FUNCTION syncline.push_mutations(p_user uuid, p_client text, p_mutations jsonb,
                                                   p_now bigint,
                                                   p_max_fields integer DEFAULT 1000,
                                                   p_max_mutations integer DEFAULT 500,
                                                   p_max_id_length integer DEFAULT 256)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = ''
AS $fn$
DECLARE
  uuid_re constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  n integer;
  m jsonb;
  e jsonb;
  problem text;
  entries jsonb[] := '{}';
  seen jsonb := '{}';
  allowed jsonb := '{}';
  r record;
  versions jsonb := '{}';
  prior jsonb := '{}';
  records jsonb := '{}';
  results jsonb[];
  store jsonb := '{}';
  released jsonb := '[]';
  writes jsonb := '{}';
  new_versions jsonb := '{}';
  units jsonb[] := '{}';
  groups jsonb := '{}';
  unit jsonb;
  idx integer;
  k integer;
  culprit text;
  staged jsonb;
  staged_versions jsonb;
  verdicts jsonb[];
  key text;
  current_record jsonb;
  next_version bigint;
  verdict jsonb;
  result jsonb;
BEGIN
  IF p_client IS NULL OR p_client !~ '^[A-Za-z0-9._:-]{1,128}$' THEN
    RAISE EXCEPTION 'clientId: expected 1-128 characters of [A-Za-z0-9._:-]' USING ERRCODE = '22023';
  END IF;
  IF jsonb_typeof(p_mutations) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'mutations: expected an array' USING ERRCODE = '22023';
  END IF;
  n := jsonb_array_length(p_mutations);
  IF n > p_max_mutations THEN
    RAISE EXCEPTION 'mutations: more than % mutations', p_max_mutations USING ERRCODE = '22023';
  END IF;
  IF n = 0 THEN
    RETURN '{"results":[]}';
  END IF;
  -- The pokes of this push (the trigger on syncline.scopes) name the pushing client.
  PERFORM set_config('syncline.client_id', p_client, true);

  -- 1. Read every entry: an invalid envelope fails the request; an invalid or unauthorised
  --    mutation becomes a refused entry, judged with its transaction below.
  FOR i IN 0 .. n - 1 LOOP
    m := p_mutations -> i;
    IF jsonb_typeof(m) IS DISTINCT FROM 'object' THEN
      RAISE EXCEPTION 'mutations[%]: expected an object', i USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(m -> 'id') IS DISTINCT FROM 'string' OR (m ->> 'id') !~ uuid_re THEN
      RAISE EXCEPTION 'mutations[%].id: expected a lowercase UUID', i USING ERRCODE = '22023';
    END IF;
    IF seen ? (m ->> 'id') THEN
      RAISE EXCEPTION 'mutations[%].id: duplicate mutation id in one request', i USING ERRCODE = '22023';
    END IF;
    seen := seen || jsonb_build_object(m ->> 'id', true);
    problem := syncline.mutation_problem(m, p_max_id_length);
    IF problem IS NOT NULL THEN
      entries := entries || jsonb_build_object('ok', false, 'id', m ->> 'id',
        'txId', CASE WHEN jsonb_typeof(m -> 'txId') = 'string' AND (m ->> 'txId') ~ uuid_re
                     THEN m ->> 'txId' END,
        'code', 'invalid', 'message', format('mutations[%s].%s', i, problem));
      CONTINUE;
    END IF;
    IF NOT allowed ? (m ->> 'scope') THEN
      allowed := allowed || jsonb_build_object(m ->> 'scope',
        syncline.authorize_scope(p_user, m ->> 'scope', 'write'));
    END IF;
    IF (allowed ->> (m ->> 'scope'))::boolean THEN
      entries := entries || jsonb_build_object('ok', true, 'id', m ->> 'id', 'txId', m ->> 'txId',
                                               'm', m);
    ELSE
      entries := entries || jsonb_build_object('ok', false, 'id', m ->> 'id', 'txId', m ->> 'txId',
        'code', 'forbidden', 'message', format('not allowed to write scope %s', m ->> 'scope'));
    END IF;
  END LOOP;

  -- 2. The server's locking read: scope row locks in sorted order, id claims, stored
  --    outcomes and current records.
  FOR r IN
    SELECT * FROM syncline.push_read(jsonb_build_object(
      'scopes', (SELECT coalesce(jsonb_agg(s ORDER BY s COLLATE "C"), '[]')
                 FROM (SELECT DISTINCT x -> 'm' ->> 'scope' AS s
                       FROM unnest(entries) AS x WHERE (x ->> 'ok')::boolean) AS t),
      'claims', (SELECT jsonb_agg(jsonb_build_object('id', x ->> 'id',
                                  'scope', x -> 'm' -> 'scope') ORDER BY o)
                 FROM unnest(entries) WITH ORDINALITY AS u(x, o)),
      'keys', (SELECT coalesce(jsonb_agg(jsonb_build_object('scope', x -> 'm' -> 'scope',
                 'collection', x -> 'm' -> 'collection', 'id', x -> 'm' -> 'recordId')), '[]')
               FROM unnest(entries) AS x WHERE (x ->> 'ok')::boolean),
      'user', p_user::text, 'client', p_client, 'now', p_now))
  LOOP
    IF r.kind = 'scope' THEN
      versions := versions || jsonb_build_object(r.scope, r.revision);
    ELSIF r.kind = 'prior' THEN
      prior := prior || jsonb_build_object(r.id, jsonb_build_object('user', r.user_id, 'result', r.data));
    ELSE
      records := records || jsonb_build_object(jsonb_build_array(r.scope, r.collection, r.id)::text,
        jsonb_build_object('scope', r.scope, 'collection', r.collection, 'id', r.id,
          'data', CASE WHEN r.deleted THEN 'null'::jsonb ELSE coalesce(r.data, '{}') END,
          'revision', r.revision, 'hlc', r.hlc, 'deleted', r.deleted));
    END IF;
  END LOOP;

  -- 3. planPush. Ids already processed answer their stored outcome; the rest form units: a
  --    lone mutation, or a txId group at the position of its first member.
  results := array_fill(NULL::jsonb, ARRAY[n]);
  FOR i IN 1 .. n LOOP
    e := entries[i];
    IF prior ? (e ->> 'id') THEN
      results[i] := CASE WHEN prior -> (e ->> 'id') ->> 'user' = p_user::text
                         THEN prior -> (e ->> 'id') -> 'result'
                         ELSE jsonb_build_object('id', e ->> 'id', 'status', 'rejected',
                                'code', 'forbidden',
                                'message', 'this mutation id belongs to another user') END;
      CONTINUE;
    END IF;
    IF e ->> 'txId' IS NOT NULL AND groups ? (e ->> 'txId') THEN
      idx := (groups ->> (e ->> 'txId'))::integer;
      units[idx] := units[idx] || to_jsonb(i);
    ELSE
      units := units || jsonb_build_array(i);
      IF e ->> 'txId' IS NOT NULL THEN
        groups := groups || jsonb_build_object(e ->> 'txId', cardinality(units));
      END IF;
    END IF;
  END LOOP;

  FOREACH unit IN ARRAY units LOOP
    k := jsonb_array_length(unit);
    -- A refused member (invalid, forbidden) rejects the whole group.
    SELECT entries[u::integer] ->> 'id' INTO culprit
    FROM jsonb_array_elements_text(unit) WITH ORDINALITY AS t(u, o)
    WHERE NOT (entries[u::integer] ->> 'ok')::boolean ORDER BY o LIMIT 1;
    IF culprit IS NOT NULL THEN
      FOR idx IN SELECT u::integer FROM jsonb_array_elements_text(unit) AS t(u) LOOP
        e := entries[idx];
        IF NOT (e ->> 'ok')::boolean THEN
          result := jsonb_build_object('id', e ->> 'id', 'status', 'rejected',
            'code', CASE WHEN k = 1 THEN e ->> 'code' ELSE 'tx_rejected' END,
            'message', CASE WHEN k = 1 THEN e ->> 'message'
                            ELSE format('%s: %s', e ->> 'code', e ->> 'message') END);
        ELSE
          result := jsonb_build_object('id', e ->> 'id', 'status', 'rejected', 'code', 'tx_rejected',
            'message', format('transaction member %s was rejected', culprit));
        END IF;
        results[idx] := result;
        store := store || jsonb_build_object(e ->> 'id', result);
      END LOOP;
      CONTINUE;
    END IF;

    -- Revision checks against a staged view, so members see each other's writes.
    staged := '{}';
    staged_versions := '{}';
    verdicts := '{}';
    FOR idx IN SELECT u::integer FROM jsonb_array_elements_text(unit) AS t(u) LOOP
      m := entries[idx] -> 'm';
      key := jsonb_build_array(m -> 'scope', m -> 'collection', m -> 'recordId')::text;
      current_record := coalesce(staged -> key, records -> key);
      next_version := coalesce((staged_versions ->> (m ->> 'scope'))::bigint,
                               (versions ->> (m ->> 'scope'))::bigint, 0) + 1;
      verdict := syncline.decide_mutation(m, current_record, next_version, p_max_fields);
      IF verdict ->> 'kind' = 'ok' THEN
        staged := staged || jsonb_build_object(key, verdict -> 'record');
        staged_versions := staged_versions || jsonb_build_object(m ->> 'scope', next_version);
      END IF;
      verdicts := verdicts || verdict;
    END LOOP;

    IF EXISTS (SELECT 1 FROM unnest(verdicts) AS v WHERE v ->> 'kind' = 'reject') THEN
      FOR i IN 1 .. k LOOP
        idx := (unit ->> (i - 1))::integer;
        result := jsonb_build_object('id', entries[idx] ->> 'id', 'status', 'rejected',
          'code', CASE WHEN k = 1 THEN 'invalid' ELSE 'tx_rejected' END,
          'message', CASE WHEN verdicts[i] ->> 'kind' = 'reject' THEN verdicts[i] ->> 'message'
                          ELSE 'another member of the transaction was rejected' END);
        results[idx] := result;
        store := store || jsonb_build_object(entries[idx] ->> 'id', result);
      END LOOP;
      CONTINUE;
    END IF;

    IF EXISTS (SELECT 1 FROM unnest(verdicts) AS v WHERE v ->> 'kind' = 'conflict') THEN
      -- None applies; every member gets the committed record. A conflict is not stored.
      FOR i IN 1 .. k LOOP
        idx := (unit ->> (i - 1))::integer;
        m := entries[idx] -> 'm';
        key := jsonb_build_array(m -> 'scope', m -> 'collection', m -> 'recordId')::text;
        results[idx] := jsonb_build_object('id', m ->> 'id', 'status', 'conflict',
                                           'server', coalesce(records -> key, 'null'::jsonb));
        released := released || to_jsonb(m ->> 'id');
      END LOOP;
      CONTINUE;
    END IF;

    -- Commit, in request order.
    FOR i IN 1 .. k LOOP
      idx := (unit ->> (i - 1))::integer;
      m := entries[idx] -> 'm';
      key := jsonb_build_array(m -> 'scope', m -> 'collection', m -> 'recordId')::text;
      records := records || jsonb_build_object(key, verdicts[i] -> 'record');
      writes := writes || jsonb_build_object(key, verdicts[i] -> 'record');
      versions := versions || jsonb_build_object(m ->> 'scope', verdicts[i] -> 'record' -> 'revision');
      new_versions := new_versions || jsonb_build_object(m ->> 'scope', verdicts[i] -> 'record' -> 'revision');
      result := jsonb_build_object('id', m ->> 'id', 'status', 'applied',
                                   'revision', verdicts[i] -> 'record' -> 'revision');
      results[idx] := result;
      store := store || jsonb_build_object(m ->> 'id', result);
    END LOOP;
  END LOOP;

  -- 4. The server's write: records, stored outcomes, released claims, scope versions (whose
  --    update fires the poke trigger). Pokes go through Realtime, not NOTIFY.
  IF writes <> '{}' OR store <> '{}' OR released <> '[]' THEN
    PERFORM syncline.push_write(jsonb_build_object(
      'writes', (SELECT coalesce(jsonb_agg(w), '[]') FROM jsonb_each(writes) AS x(k, w)),
      'outcomes', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.k, 'outcome', x.o)), '[]')
                   FROM jsonb_each(store) AS x(k, o)),
      'released', released,
      'versions', (SELECT coalesce(jsonb_agg(jsonb_build_object('scope', x.s, 'version', x.v)), '[]')
                   FROM jsonb_each(new_versions) AS x(s, v)),
      'pokes', '[]'::jsonb,
      'now', p_now));
  END IF;
  RETURN jsonb_build_object('results', to_jsonb(results));
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- The RPC functions PostgREST exposes (schema public). POST /rest/v1/rpc/<name>, named args.
-- ---------------------------------------------------------------------------------------------

-- Push: {"client_id": "...", "mutations": [...]} -> {"results": [...]}. One transaction.
CREATE OR REPLACE FUNCTION public.syncline_push(client_id text, mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
AS $fn$
BEGIN
  RETURN syncline.push_mutations(syncline.request_user(), client_id, mutations,
                                 floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint);
END
$fn$;

-- Pull: {"scope": "...", "checkpoint": null | "...", "max_changes": 1..1000} -> PullResponse.
-- The checkpoint rule of the server's pull-query.ts: c1.<database epoch>.<scope version>, with
-- .h<purge horizon> when it is below the horizon it was issued under (a page of a pull that
-- started over after a purge: good until a later purge raises the horizon).
CREATE OR REPLACE FUNCTION public.syncline_pull(scope text, checkpoint text DEFAULT NULL,
                                                max_changes integer DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  uid uuid := syncline.request_user();
  lim integer := coalesce(max_changes, 1000);
  epoch text;
  parts text[];
  decoded bigint;
  issued bigint := 0;
  head record;
  after bigint := 0;
  reset boolean := false;
  through bigint;
BEGIN
  IF scope IS NULL OR scope !~ '^[a-z][a-z0-9_-]{0,31}:[^[:space:][:cntrl:]]{1,200}$' THEN
    RAISE EXCEPTION 'scope: expected a scope' USING ERRCODE = '22023';
  END IF;
  IF lim < 1 OR lim > 1000 THEN
    RAISE EXCEPTION 'max_changes: expected 1-1000' USING ERRCODE = '22023';
  END IF;
  IF checkpoint IS NOT NULL AND (char_length(checkpoint) NOT BETWEEN 1 AND 256
                                 OR checkpoint ~ '[\x01-\x1f\x7f-\x9f]') THEN
    RAISE EXCEPTION 'checkpoint: expected a checkpoint' USING ERRCODE = '22023';
  END IF;
  IF NOT syncline.authorize_scope(uid, scope, 'read') THEN
    RAISE EXCEPTION 'syncline: you may not read scope %', scope USING ERRCODE = '42501';
  END IF;
  SELECT m.value INTO epoch FROM syncline.meta m WHERE m.key = 'epoch';
  IF checkpoint IS NOT NULL THEN
    parts := regexp_match(checkpoint,
      '^c1\.([0-9a-f]{1,64})\.(0|[1-9][0-9]{0,15})(?:\.h([1-9][0-9]{0,15}))?$');
    IF parts IS NOT NULL AND parts[1] = epoch AND parts[2]::numeric <= 9007199254740991
       AND coalesce(parts[3], '0')::numeric <= 9007199254740991 THEN
      decoded := parts[2]::bigint;
      issued := coalesce(parts[3], '0')::bigint;
    END IF;
  END IF;
  SELECT * INTO head FROM syncline.pull_changes(scope, decoded, lim);
  IF checkpoint IS NOT NULL THEN
    -- Never issued here, ahead of the scope, or behind the purge horizon: start over.
    IF decoded IS NULL OR decoded > head.version THEN
      reset := true;
    ELSIF decoded < head.purged_through AND issued < head.purged_through THEN
      -- pull_changes read from the checkpoint; a reset reads from the start.
      reset := true;
      SELECT * INTO head FROM syncline.pull_changes(scope, NULL, lim);
    ELSE
      after := decoded;
    END IF;
  END IF;
  through := CASE WHEN head.has_more AND head.last_revision IS NOT NULL THEN head.last_revision
                  ELSE greatest(head.version, after) END;
  RETURN ('{"changes":' || head.changes
          || ',"checkpoint":' || to_json('c1.' || epoch || '.' || through
               || CASE WHEN through < head.purged_through THEN '.h' || head.purged_through
                       ELSE '' END)::text
          || ',"hasMore":' || CASE WHEN head.has_more THEN 'true' ELSE 'false' END
          || CASE WHEN reset THEN ',"resetRequired":true}' ELSE '}' END)::json;
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Realtime: a poke per scope whose version rose, on the private channel 'syncline:<scope>'.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION syncline.broadcast_poke()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $fn$
BEGIN
  PERFORM realtime.send(
    jsonb_build_object('scope', NEW.scope, 'version', NEW.version,
      'originClientId', coalesce(nullif(current_setting('syncline.client_id', true), ''), 'database')),
    'poke', 'syncline:' || NEW.scope, true);
  RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS syncline_poke ON syncline.scopes;
CREATE TRIGGER syncline_poke
  AFTER UPDATE OF version ON syncline.scopes
  FOR EACH ROW WHEN (NEW.version > OLD.version)
  EXECUTE FUNCTION syncline.broadcast_poke();

-- Only a reader of the scope may join its channel and receive its pokes.
DROP POLICY IF EXISTS syncline_scope_readers_receive_pokes ON realtime.messages;
CREATE POLICY syncline_scope_readers_receive_pokes ON realtime.messages
  FOR SELECT TO authenticated
  USING (realtime.messages.extension = 'broadcast'
         AND (SELECT realtime.topic()) LIKE 'syncline:%'
         AND syncline.may_read(substr((SELECT realtime.topic()), 10)));

-- ---------------------------------------------------------------------------------------------
-- Privileges and row-level security.
-- ---------------------------------------------------------------------------------------------

-- Nothing in the private schema is callable by default; functions get EXECUTE for PUBLIC when
-- created, and Supabase grants every new function in public to anon and authenticated.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA syncline FROM PUBLIC, anon, authenticated;
REVOKE ALL ON ALL TABLES IN SCHEMA syncline FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.syncline_push(text, jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.syncline_pull(text, text, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.syncline_push(text, jsonb) TO authenticated;
GRANT EXECUTE ON FUNCTION public.syncline_pull(text, text, integer) TO authenticated;
-- Policies (here and on realtime.messages) run as the signed-in user.
GRANT USAGE ON SCHEMA syncline TO authenticated;
GRANT EXECUTE ON FUNCTION syncline.may_read(text) TO authenticated;

-- A signed-in user may read the rows of the scopes it may read, and its own memberships;
-- nobody writes them except through the functions above (which run as their owner).
GRANT SELECT ON syncline.records, syncline.scopes, syncline.scope_members TO authenticated;

ALTER TABLE syncline.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.scopes ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.scope_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.mutations ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.meta ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.migrations ENABLE ROW LEVEL SECURITY;
-- The reference server's session-targeting tables (its migration 7) come with 0001; nothing on
-- Supabase reads them directly.
ALTER TABLE syncline.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.revoked_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.delivery_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.delivery_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.delivery_acks ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE syncline.transfers ENABLE ROW LEVEL SECURITY;
-- The reference server's uploads by id (its migration 7); Supabase uploads go to Storage.
ALTER TABLE syncline.uploads_by_id ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS syncline_read_records ON syncline.records;
CREATE POLICY syncline_read_records ON syncline.records
  FOR SELECT TO authenticated USING (syncline.may_read(scope));
DROP POLICY IF EXISTS syncline_read_scopes ON syncline.scopes;
CREATE POLICY syncline_read_scopes ON syncline.scopes
  FOR SELECT TO authenticated USING (syncline.may_read(scope));
DROP POLICY IF EXISTS syncline_read_own_memberships ON syncline.scope_members;
CREATE POLICY syncline_read_own_memberships ON syncline.scope_members
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
-- syncline.mutations, syncline.meta and syncline.migrations: RLS on and no policy, so no
-- role but the owner (and service_role, which bypasses RLS) reads them.
