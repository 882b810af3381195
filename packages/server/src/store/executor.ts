/**
 * The tiny database surface the SQL store runs on, so PGlite and node-postgres share one SQL
 * implementation. Both drivers answer with plain row objects.
 *
 * @module
 */

/** Runs statements on one connection (or inside one transaction). */
export interface SqlQueryable {
  /** Runs one statement with `$1..$n` parameters and returns its rows. Values are always bound. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations only). */
  exec(sql: string): Promise<void>;
}

/**
 * A database the SQL store can use: queries, transactions and LISTEN.
 *
 * `transaction` runs `fn` between BEGIN and COMMIT on one connection and rolls back when `fn`
 * throws. It may be called concurrently; a single-connection driver (PGlite) serializes calls.
 */
export interface SqlExecutor extends SqlQueryable {
  /** Runs `fn` in a transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel. Notifications are delivered after the notifying
   * transaction commits, from this process or any other on the same database.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Releases the connection(s). */
  close(): Promise<void>;
  /**
   * `true` when no other process uses this database (PGlite, embedded in this process, its
   * data directory locked to it): state that only needs to survive this process may then be
   * kept in its memory rather than written on every step (an upload's offset between its
   * chunks). Left out: other processes may share the database.
   */
  readonly singleProcess?: boolean;
}
