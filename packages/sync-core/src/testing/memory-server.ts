/**
 * An in-memory server that holds the protocol's semantics exactly as the SQL server does
 * (DESIGN §3): per-scope versions, revision checks, stored outcomes, tombstones, atomic
 * transactions, pages with opaque checkpoints, purge horizon, authorization, pokes. It is the
 * executable reference of the protocol and the server of the simulator.
 *
 * @module
 */
import type { SyncEnvironment } from '../env/types.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { type ProtocolLimits, resolveLimits } from '../protocol/limits.js';
import type { Poke, PullResponse, PushResponse, SyncRecord } from '../protocol/types.js';
import {
  type ParsedPushRequest,
  parsePushRequest,
  validatePullRequest,
} from '../protocol/validate-requests.js';
import { deepFreeze } from '../store/freeze.js';
import type { AuthSession } from '../transport/types.js';
import {
  type AppliedLogEntry,
  type PushCounters,
  processPush,
  type StoredOutcome,
} from './memory-push.js';
import { MemoryScope } from './memory-scope.js';
import { type MemorySessionOptions, MemorySessionServer } from './memory-session-server.js';
import { type ConnectOptions, MemoryTransport } from './memory-transport.js';

export type { AppliedLogEntry } from './memory-push.js';

/** Options of {@link createMemoryServer}. */
export interface MemoryServerOptions extends MemorySessionOptions {
  /**
   * Injected time, as in every syncline part: `now()` in epoch milliseconds dates tombstones for
   * {@link MemoryServer.purgeTombstones} `olderThan`.
   * @default the real clock (`Date.now`)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
  /**
   * How deliveries are scheduled: the arrival of a request at the server, the arrival of its
   * answer at the client, pokes and `onConnect` calls. The simulator passes its own to control
   * the interleaving.
   * @default queueMicrotask
   */
  schedule?: (fn: () => void) => void;
  /**
   * Whether `userId` may read and write `scope`. Asked once per scope of a push request, and
   * for every pull and poke.
   * @default `user:<own id>`, plus every scope `listScopeMembers` lists the user in (as the
   *   reference server's default)
   */
  authorizeScope?: (userId: string, scope: string) => boolean;
  /**
   * Protocol limits; missing ones take their defaults.
   * @default DEFAULT_LIMITS
   */
  limits?: Partial<ProtocolLimits>;
}

/** Counters of what the server did, for tests and the simulator's anti-vacuity checks. */
export interface MemoryServerStats {
  /** Push requests that reached the server (valid or not). */
  pushes: number;
  /** Pull requests that reached the server (valid or not). */
  pulls: number;
  /** Mutations answered from a stored outcome (re-sent ids). */
  dedupeHits: number;
  /** `conflict` results produced. */
  conflicts: number;
  /** `rejected` results produced. */
  rejected: number;
}

/** Which tombstones {@link MemoryServer.purgeTombstones} removes; all given conditions must hold. */
export interface PurgeOptions {
  /** Only tombstones written before this server time (epoch ms). */
  olderThan?: number;
  /** Only tombstones with `revision <= throughVersion`. */
  throughVersion?: number;
  /** Only in this scope. */
  scope?: string;
}

/** The in-memory protocol server. Create it with {@link createMemoryServer}. */
export interface MemoryServer {
  /**
   * A transport to this server. Signed in as `userId` when given (with `sessionId`, or a fresh
   * one), otherwise signed out until `transport.signIn(...)`.
   */
  connect(options?: ConnectOptions): MemoryTransport;
  /**
   * Handles a push body as `auth` (the authenticated session; `null` = no credentials), as the
   * HTTP handler would. Synchronous; throws `SyncError` `auth` (401) when signed out and
   * `rejected` (400, code `invalid`) for a malformed request.
   */
  push(auth: AuthSession | null, body: unknown): PushResponse;
  /**
   * Handles a pull query as `auth`. Throws `SyncError` `auth` (401 signed out, 403 another
   * user's scope) and `rejected` (400) for a malformed query.
   */
  pull(auth: AuthSession | null, query: unknown): PullResponse;
  /**
   * Pokes for `scopes` go to `onPoke` (through `schedule`) while `auth()` is allowed to read the
   * scope. Returns the function that unsubscribes.
   */
  watch(
    scopes: readonly string[],
    auth: () => AuthSession | null,
    onPoke: (poke: Poke) => void,
  ): () => void;
  /**
   * Removes tombstones and raises each scope's purge horizon: a later pull whose checkpoint is
   * below the highest purged revision gets `resetRequired`. Returns how many were removed.
   */
  purgeTombstones(options?: PurgeOptions): number;
  /** Copies of the scope's records, tombstones included, in revision order. */
  records(scope: string): SyncRecord[];
  /** The scope's version (0 for a scope never written). */
  version(scope: string): number;
  /** Every applied mutation, in the order applied. */
  readonly appliedLog: readonly AppliedLogEntry[];
  /** What the server did so far. */
  readonly stats: Readonly<MemoryServerStats>;
  /** The resolved protocol limits. */
  readonly limits: Readonly<ProtocolLimits>;
  /** How the server schedules deliveries (see {@link MemoryServerOptions.schedule}). */
  readonly schedule: (fn: () => void) => void;
  /** Mints a session id for a sign-in that names none (`session-1`, `session-2`, ...). */
  nextSessionId(): string;
  /** Sessions, deliveries, assets and transfers (`/v1/sessions`, `/v1/deliveries`, ...). */
  readonly sessionRoutes: MemorySessionServer;
  /**
   * Runs the sweeper now: expires deliveries and transfers past their TTL (on the server's
   * `now`) and deletes every asset nothing live references. Returns the deleted hashes.
   */
  sweep(): string[];
}

/**
 * Creates an in-memory protocol server.
 *
 * @example
 * ```ts
 * const server = createMemoryServer();
 * const transport = server.connect({ userId: 'u1' });
 * const client = createSyncClient({ transport, collections: { todos: {} } });
 * ```
 */
export function createMemoryServer(options: MemoryServerOptions = {}): MemoryServer {
  return new InMemoryServer(options);
}

/**
 * A checkpoint: the scope version the client is up to date with, and, when that is below the
 * purge horizon (a page of a pull that started over after a purge), `h<horizon>` with the
 * horizon it was issued under: such a checkpoint stays good while no later purge raised it.
 */
const CHECKPOINT = /^(0|[1-9][0-9]{0,15})(?:h([1-9][0-9]{0,15}))?$/;

/** Encodes a checkpoint (see {@link CHECKPOINT}). */
function encodeCheckpoint(version: number, horizon: number): string {
  return version >= horizon ? String(version) : `${version}h${horizon}`;
}

class InMemoryServer implements MemoryServer {
  readonly limits: Readonly<ProtocolLimits>;
  readonly schedule: (fn: () => void) => void;
  readonly sessionRoutes: MemorySessionServer;
  readonly #now: () => number;
  readonly #authorize: (userId: string, scope: string) => boolean;
  readonly #scopes = new Map<string, MemoryScope>();
  readonly #outcomes = new Map<string, StoredOutcome>();
  readonly #applied: AppliedLogEntry[] = [];
  readonly #stats: MemoryServerStats = {
    pushes: 0,
    pulls: 0,
    dedupeHits: 0,
    conflicts: 0,
    rejected: 0,
  };
  readonly #watchers = new Set<{
    scopes: ReadonlySet<string>;
    auth: () => AuthSession | null;
    onPoke: (poke: Poke) => void;
  }>();
  /** The version each scope's last poke announced: the next poke's changes start there. */
  readonly #poked = new Map<string, number>();
  #sessions = 0;

  constructor(options: MemoryServerOptions) {
    this.limits = resolveLimits(options.limits);
    // Wrapped: browsers throw "Illegal invocation" when queueMicrotask is called as a method.
    this.schedule = options.schedule ?? ((fn) => queueMicrotask(fn));
    this.#now = options.environment?.now ?? Date.now;
    const members = options.listScopeMembers;
    // As the reference server's default: the user's own scope, and the scopes listed with them.
    this.#authorize =
      options.authorizeScope ??
      ((userId, scope) =>
        scope === `user:${userId}` || (members?.(scope).includes(userId) ?? false));
    this.sessionRoutes = new MemorySessionServer(
      { now: this.#now, schedule: this.schedule, authorizeScope: this.#authorize },
      options,
    );
  }

  sweep(): string[] {
    return this.sessionRoutes.sweep();
  }

  get appliedLog(): readonly AppliedLogEntry[] {
    return this.#applied;
  }

  get stats(): Readonly<MemoryServerStats> {
    return { ...this.#stats };
  }

  connect(options: ConnectOptions = {}): MemoryTransport {
    return new MemoryTransport(this, options);
  }

  nextSessionId(): string {
    this.#sessions++;
    return `session-${this.#sessions}`;
  }

  push(auth: AuthSession | null, body: unknown): PushResponse {
    this.#stats.pushes++;
    const session = this.sessionRoutes.authenticate(auth);
    let request: ParsedPushRequest;
    try {
      // The transport's copy of the request is the server's own: its data is checked in place.
      request = parsePushRequest(body, { limits: this.limits, inPlace: true });
    } catch (error) {
      throw badRequest(error);
    }
    const counters: PushCounters = this.#stats;
    let lastScope: string | undefined;
    let lastAllowed = false;
    const { results, changedScopes } = processPush(request, {
      userId: session.userId,
      sessionId: session.sessionId,
      now: this.#now(),
      maxFieldsPerRecord: this.limits.maxFieldsPerRecord,
      outcomes: this.#outcomes,
      counters,
      authorized: (scope) => {
        // Asked once per scope of a push (its mutations nearly always share one).
        if (scope !== lastScope) {
          lastScope = scope;
          lastAllowed = this.#authorize(session.userId, scope);
        }
        return lastAllowed;
      },
      scope: (name) => this.#scope(name),
      applied: (entry) => this.#applied.push(entry),
    });
    for (const scope of changedScopes) this.#poke(scope, request.clientId);
    return { results };
  }

  /**
   * Answers one pull page. The records are the server's own, deep-frozen ones (never changed
   * after they were written, only replaced), so a page is handed out without a copy.
   */
  pull(auth: AuthSession | null, query: unknown): PullResponse {
    this.#stats.pulls++;
    const session = this.sessionRoutes.authenticate(auth);
    let request: ReturnType<typeof validatePullRequest>;
    try {
      request = validatePullRequest(query, this.limits);
    } catch (error) {
      throw badRequest(error);
    }
    if (!this.#authorize(session.userId, request.scope)) {
      throw new SyncError('auth', `not allowed to read scope ${request.scope}`, {
        status: 403,
        code: 'forbidden',
      });
    }
    const scope = this.#scopes.get(request.scope);
    const version = scope?.version ?? 0;
    let after = 0;
    let resetRequired = false;
    if (request.checkpoint !== null) {
      // Checkpoints are the scope version as a decimal string: "version > checkpoint" is then
      // exact. One that does not parse, is ahead of the scope (never issued) or is below the
      // purge horizon (the client may have missed a purged tombstone) forces a reset, unless it
      // was issued under the current horizon (a page of a pull that started after the purge).
      const match = CHECKPOINT.exec(request.checkpoint);
      const checkpoint = match === null ? -1 : Number(match[1]);
      const issuedUnder = match?.[2] === undefined ? 0 : Number(match[2]);
      const horizon = scope?.horizon ?? 0;
      if (
        checkpoint < 0 ||
        checkpoint > version ||
        (checkpoint < horizon && issuedUnder < horizon)
      ) {
        resetRequired = true;
      } else {
        after = checkpoint;
      }
    }
    const limit = request.limit ?? this.limits.maxPullLimit;
    const page = scope?.changesAfter(after, limit) ?? { changes: [], hasMore: false };
    const last = page.changes.at(-1);
    const response: PullResponse = {
      changes: page.changes,
      checkpoint: encodeCheckpoint(
        page.hasMore && last !== undefined ? last.revision : version,
        scope?.horizon ?? 0,
      ),
      hasMore: page.hasMore,
    };
    if (resetRequired) response.resetRequired = true;
    return response;
  }

  watch(
    scopes: readonly string[],
    auth: () => AuthSession | null,
    onPoke: (poke: Poke) => void,
  ): () => void {
    const watcher = { scopes: new Set(scopes), auth, onPoke };
    this.#watchers.add(watcher);
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  purgeTombstones(options: PurgeOptions = {}): number {
    const { olderThan, throughVersion, scope } = options;
    let purged = 0;
    for (const [name, state] of this.#scopes) {
      if (scope !== undefined && name !== scope) continue;
      purged += state.purgeTombstones(
        (record, writtenAt) =>
          (olderThan === undefined || writtenAt < olderThan) &&
          (throughVersion === undefined || record.revision <= throughVersion),
      );
    }
    return purged;
  }

  records(scope: string): SyncRecord[] {
    return structuredClone(this.#scopes.get(scope)?.records() ?? []);
  }

  version(scope: string): number {
    return this.#scopes.get(scope)?.version ?? 0;
  }

  #scope(name: string): MemoryScope {
    let scope = this.#scopes.get(name);
    if (scope === undefined) {
      scope = new MemoryScope(name);
      this.#scopes.set(name, scope);
    }
    return scope;
  }

  /**
   * Pokes the watchers of `scope` with the changes since the previous poke, as the SQL server's
   * broadcaster does (one read per scope, one poke shared by every delivery: deep-frozen, its
   * records are the server's own frozen ones, like pull pages). Every version change of a scope
   * comes from a push that pokes it, so the previous poke's version is the version before this
   * push. A page beyond `maxPullLimit` goes as a plain poke.
   */
  #poke(scope: string, originClientId: string): void {
    const state = this.#scopes.get(scope);
    const version = state?.version ?? 0;
    const from = this.#poked.get(scope) ?? 0;
    this.#poked.set(scope, version);
    const page = state?.changesAfter(from, this.limits.maxPullLimit);
    const poke: Poke =
      page === undefined || page.hasMore
        ? { scope, version, originClientId }
        : {
            scope,
            version,
            originClientId,
            fromCheckpoint: String(from),
            checkpoint: String(version),
            changes: page.changes,
          };
    deepFreeze(poke);
    for (const watcher of this.#watchers) {
      if (!watcher.scopes.has(scope)) continue;
      this.schedule(() => {
        // Judged at delivery: a watcher that signed out (or unsubscribed) meanwhile gets nothing.
        const session = watcher.auth();
        if (!this.#watchers.has(watcher) || session === null) return;
        if (!this.#authorize(session.userId, scope)) return;
        watcher.onPoke(poke);
      });
    }
  }
}

/** A validation failure as the client sees it through HTTP: 400, which is `rejected`. */
function badRequest(error: unknown): SyncError {
  if (!isSyncError(error)) throw error; // a bug, not bad input: let it surface
  return new SyncError('rejected', error.message, {
    status: 400,
    code: 'invalid',
    details: error.details,
    cause: error,
  });
}
