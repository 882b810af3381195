/**
 * The app's own table, as an app would declare it with Drizzle: one row per project, owned by a
 * user, with a revision the API raises on every write (its optimistic-concurrency token) and a
 * soft delete.
 */
import { integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const projects = pgTable(
  'projects',
  {
    userId: text('user_id').notNull(),
    id: text('id').notNull(),
    name: text('name').notNull(),
    data: jsonb('data').notNull().default({}),
    revision: integer('revision').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [primaryKey({ columns: [table.userId, table.id] })],
);

/** The DDL the app runs at start (an app would use drizzle-kit migrations). */
export const MIGRATION = `
  CREATE TABLE IF NOT EXISTS projects (
    user_id text NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    revision integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (user_id, id)
  );
`;

export type ProjectRow = typeof projects.$inferSelect;
