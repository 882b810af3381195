/**
 * Fan-out of pokes that carry their changes. Without it, every push makes each of N watching
 * devices pull: N pull queries per write, which saturates a small server long before the
 * database is busy. Instead the broadcaster reads the new changes of a scope ONCE (with the
 * store's pull query, from the version of its previous poke) and hands every subscriber of
 * the scope the same encoded event, so a device that is up to date applies it with no request.
 *
 * Pokes stay hints (DESIGN §4): a device whose checkpoint is not the poke's `fromCheckpoint`
 * pulls as before. So whatever goes wrong here (a failed read, a page over the size cap, the
 * first poke of a scope whose previous version is unknown) ends in a plain poke, never in a
 * wrong one. Notifications of one scope that arrive while its read runs only mark it "read
 * again": a burst of pushes costs one or two reads, and its pokes leave in version order.
 *
 * `originClientId` is kept when every notified push of a poke came from one client and the
 * read found nothing beyond them. PostgreSQL delivers notifications in commit order, and a
 * scope's versions are handed out in commit order, so an earlier commit of another client
 * was notified first and is among the origins.
 *
 * @module
 */
import type { Poke } from '@syncline/sync-core/protocol';
import type { CommittedChanges, SyncStore } from '../store/types.js';
import { soon } from './soon.js';

/** Options of {@link PokeBroadcaster}. */
export interface PokeBroadcasterOptions {
  /** Where pokes come from (LISTEN/NOTIFY) and changes are read. */
  store: SyncStore;
  /** Most changes one poke carries; a larger page goes as a plain poke. @default 1000 */
  maxChanges?: number;
  /** Longest poke JSON, in UTF-16 code units; a longer one goes as a plain poke. @default 262144 */
  maxJsonLength?: number;
  /** Where a failed read is reported (its poke still goes out, plain). @default console.error */
  onError?: (error: unknown) => void;
}

/** Receives the encoded `poke` event (SSE frame) of a scope it subscribed to. */
export type PokeSink = (frame: Uint8Array) => void;

interface ScopeState {
  readonly sinks: Set<PokeSink>;
  /** The version the last poke covered; `undefined` until the first poke is sent. */
  sent: number | undefined;
  /** The highest version notified. */
  wanted: number;
  /** Clients whose pushes were notified since the last poke. */
  origins: Set<string>;
  reading: boolean;
  /** A read is scheduled for the next turn. */
  readSoon: boolean;
}

const encoder = new TextEncoder();

/** One per handler: subscribes event streams to scopes and fans pokes out to them. */
export class PokeBroadcaster {
  readonly #store: SyncStore;
  readonly #maxChanges: number;
  readonly #maxJsonLength: number;
  readonly #onError: (error: unknown) => void;
  readonly #scopes = new Map<string, ScopeState>();
  #unlisten: (() => void) | undefined;
  #unlistenCommits: (() => void) | undefined;

  /** @param options - see {@link PokeBroadcasterOptions} */
  constructor(options: PokeBroadcasterOptions) {
    this.#store = options.store;
    this.#maxChanges = options.maxChanges ?? 1000;
    this.#maxJsonLength = options.maxJsonLength ?? 256 * 1024;
    this.#onError = options.onError ?? ((error) => console.error('[syncline]', error));
  }

  /** Sends the pokes of `scopes` to `sink` until the returned function is called. */
  subscribe(scopes: readonly string[], sink: PokeSink): () => void {
    this.#unlisten ??= this.#store.onPoke((poke) => this.#notified(poke));
    this.#unlistenCommits ??= this.#store.onCommit?.((commit) => this.#committed(commit));
    for (const scope of scopes) {
      let state = this.#scopes.get(scope);
      if (state === undefined) {
        state = {
          sinks: new Set(),
          sent: undefined,
          wanted: 0,
          origins: new Set(),
          reading: false,
          readSoon: false,
        };
        this.#scopes.set(scope, state);
      }
      state.sinks.add(sink);
    }
    return () => {
      for (const scope of scopes) {
        const state = this.#scopes.get(scope);
        state?.sinks.delete(sink);
        // Forgotten with its last subscriber: the next subscriber starts with a plain poke.
        if (state?.sinks.size === 0) this.#scopes.delete(scope);
      }
      if (this.#scopes.size === 0) {
        this.#unlisten?.();
        this.#unlisten = undefined;
        this.#unlistenCommits?.();
        this.#unlistenCommits = undefined;
      }
    };
  }

  #notified(poke: Poke): void {
    const state = this.#scopes.get(poke.scope);
    if (state === undefined) return;
    if (state.sent !== undefined && poke.version <= state.sent) return; // already carried
    if (poke.version > state.wanted) state.wanted = poke.version;
    if (poke.originClientId !== undefined) state.origins.add(poke.originClientId);
    if (state.sent === undefined || this.#store.changesAfter === undefined) {
      // Where the changes start is unknown (or they cannot be read): a plain poke, and the
      // next one continues from its version, a commit boundary every client can be at.
      this.#send(state, this.#plain(poke.scope, state));
      state.sent = state.wanted;
      return;
    }
    if (state.reading || state.readSoon) return;
    // Read on the next turn, not now: when the push was this process's own, its commit feed
    // (`onCommit`) may still be on its way (PGlite notifies before the push's answer
    // resolves) and then carries the poke with no read at all.
    state.readSoon = true;
    soon(() => {
      state.readSoon = false;
      if (!state.reading) void this.#read(poke.scope, state);
    });
  }

  /**
   * A push of this process committed: when it continues exactly from the last poke and no read
   * is under way, its changes are the next poke as they are, with no read. Anything else is
   * left to the notification of the same push (it arrives through `onPoke` either way), which
   * reads. The notification that follows a poke sent here finds its version already carried.
   */
  #committed(commit: CommittedChanges): void {
    const state = this.#scopes.get(commit.scope);
    if (state === undefined || state.reading || state.sent !== commit.from) return;
    if (commit.changes.length > this.#maxChanges) return;
    const poke: Poke = {
      scope: commit.scope,
      version: commit.version,
      originClientId: commit.originClientId,
      fromCheckpoint: commit.fromCheckpoint,
      checkpoint: commit.checkpoint,
      changes: commit.changes,
    };
    const json = JSON.stringify(poke);
    if (json.length > this.#maxJsonLength) return;
    this.#send(state, json);
    state.sent = commit.version;
    // Origins noted since the last poke came from notifications this poke covers (its own,
    // when it arrived first), unless a later one is already waiting.
    if (state.wanted <= commit.version) state.origins = new Set();
    if (commit.version > state.wanted) state.wanted = commit.version;
  }

  async #read(scope: string, state: ScopeState): Promise<void> {
    state.reading = true;
    try {
      while (state.sent !== undefined && state.wanted > state.sent && this.#live(scope, state)) {
        const from = state.sent;
        const wanted = state.wanted;
        const origin = this.#origin(state);
        let page: Awaited<ReturnType<NonNullable<SyncStore['changesAfter']>>>;
        try {
          page = await this.#store.changesAfter?.(scope, from, this.#maxChanges);
        } catch (error) {
          // Nobody listens any more (streams closed at shutdown, before the store): no report.
          if (!this.#live(scope, state)) return;
          this.#onError(error);
          page = undefined;
        }
        if (!this.#live(scope, state)) return;
        if (page === undefined || page.hasMore || page.version < wanted) {
          this.#send(state, plainJson(scope, wanted, origin));
          state.sent = wanted;
          continue;
        }
        const poke: Poke = { scope, version: page.version };
        // Commits beyond the notified ones (their notifications are on the way) have origins
        // of their own: the poke then names none, so no client takes it for its own echo.
        if (origin !== undefined && page.version === wanted) poke.originClientId = origin;
        poke.fromCheckpoint = page.fromCheckpoint;
        poke.checkpoint = page.checkpoint;
        poke.changes = page.changes;
        const json = JSON.stringify(poke);
        this.#send(
          state,
          json.length <= this.#maxJsonLength ? json : plainJson(scope, page.version, origin),
        );
        state.sent = page.version;
      }
    } finally {
      state.reading = false;
    }
  }

  /** `true` while `state` is still the scope's (it is dropped with its last subscriber). */
  #live(scope: string, state: ScopeState): boolean {
    return this.#scopes.get(scope) === state;
  }

  /** The origin of the notified pushes, when they all came from one client; then forgets them. */
  #origin(state: ScopeState): string | undefined {
    const [only] = state.origins;
    const origin = state.origins.size === 1 ? only : undefined;
    state.origins = new Set();
    return origin;
  }

  #plain(scope: string, state: ScopeState): string {
    return plainJson(scope, state.wanted, this.#origin(state));
  }

  #send(state: ScopeState, json: string): void {
    const frame = encoder.encode(`event: poke\ndata: ${json}\n\n`);
    for (const sink of state.sinks) {
      try {
        sink(frame);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

function plainJson(scope: string, version: number, origin: string | undefined): string {
  const poke: Poke = { scope, version };
  if (origin !== undefined) poke.originClientId = origin;
  return JSON.stringify(poke);
}
