/**
 * The tables of the baseline schema. Versions (`version`, `revision`, `purged_through`) are
 * bigint counters, never timestamps: the cursor of a pull is a version (DESIGN §3.1). Times that
 * only age data (`created_at`, `deleted_at`) are epoch milliseconds from the store's injected
 * clock.
 *
 * @module
 */

/** The tables and indexes of the baseline (migration 1). */
export const TABLES_SQL = `
CREATE TABLE syncline.meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
-- A random id of this database: checkpoints carry it, so a checkpoint from another (or a
-- wiped and recreated) database is recognised and answered with resetRequired.
INSERT INTO syncline.meta (key, value) VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));

-- One row per scope; its row lock orders every push to the scope (DESIGN §3.1).
CREATE TABLE syncline.scopes (
  scope text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 0,
  purged_through bigint NOT NULL DEFAULT 0
);

CREATE TABLE syncline.records (
  scope text NOT NULL,
  collection text NOT NULL,
  id text NOT NULL,
  data jsonb,
  revision bigint NOT NULL,
  hlc text NOT NULL,
  deleted boolean NOT NULL,
  deleted_at bigint,
  -- The record exactly as a pull page carries it (see push-sql.ts); NULL: render from columns.
  wire text,
  PRIMARY KEY (scope, collection, id)
);
CREATE INDEX records_scope_revision ON syncline.records (scope, revision);
CREATE INDEX records_tombstones ON syncline.records (deleted_at) WHERE deleted;

-- The outcome of every applied or rejected mutation, written in the same transaction as its
-- effect. outcome is NULL only while the pushing transaction holds the claim. scope is NULL
-- for a mutation rejected as invalid.
CREATE TABLE syncline.mutations (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  client_id text NOT NULL,
  scope text,
  outcome jsonb,
  created_at bigint NOT NULL
);
CREATE INDEX mutations_created_at ON syncline.mutations (created_at);

-- No table binds a client id to a user: a client id names an installation, and one device
-- may be used by several users in turn (DESIGN §2: sessions upsert on (userId, clientId)).
-- It carries no authority: scopes are authorised per user and stored outcomes are per user.
`;
