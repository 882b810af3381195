import type { EngineContext } from '../engine/context.js';
import type { SyncError } from '../errors/sync-error.js';
import type { ServerLimitsInfo } from '../protocol/server-info.js';
import type { Poke } from '../protocol/types.js';
import type { Replica } from '../replica/replica.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';
import { isPagePoke, PullLoop, type PullLoopOptions } from './pull-loop.js';
import { PushLoop } from './push-loop.js';
import type { Retryer } from './retryer.js';

/** What a {@link Replicator} needs. */
export interface ReplicatorOptions {
  /** Shared engine parts. */
  ctx: EngineContext;
  /** The signed-in user's replica. */
  replica: Replica;
  /** The signed-in session. */
  session: AuthSession;
  /** This installation. */
  clientId: string;
  /** The server. */
  transport: SyncTransport;
  /** The shared retry policy. */
  retryer: Retryer;
  /** Scopes to pull. */
  scopes: readonly string[];
  /** Most mutations per push. */
  pushBatchSize: number;
  /** Most changes per pull page. */
  pullPageSize: number;
  /** Most changes per page of a pull from no checkpoint (see {@link PullLoopOptions}). */
  initialPullPageSize: () => Promise<number>;
  /** Fallback pull period. */
  pullIntervalMs: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
  /** Called once when an `auth` error stopped this replicator. */
  onAuthPaused: (error: SyncError) => void;
  /** Called with the server's limits when a push was refused as too large (413). */
  onLimits: (limits: Partial<ServerLimitsInfo>) => void;
}

/**
 * Keeps one signed-in replica in sync with the server: the push loop (on every durable local
 * write, on reconnect), the pull loop per scope (at start, on a realtime poke, on the
 * transport's reconnect, when the device comes back online, and every `pullIntervalMs` as a
 * fallback, since pokes are only hints). An `auth` error stops it; the client then builds a
 * new replicator on a session change, on `syncNow()`, or after its auth retry delay.
 */
export class Replicator {
  readonly #o: ReplicatorOptions;
  /**
   * Its signal is aborted once stopped. The loops then do nothing (each checks it before a
   * step: push's `schedule` and `run`, the pull loop's drain), so asking them is safe; what
   * would still move the status checks it.
   */
  readonly #controller = new AbortController();
  readonly #push: PushLoop;
  readonly #pull: PullLoop;
  readonly #cleanups: Array<() => void> = [];
  /** Highest revision our own pushes got, per scope: pokes up to it are our own echo. */
  readonly #ownRevision = new Map<string, number>();
  readonly #failureWatchers = new Set<(error: SyncError, attempt: number) => void>();
  #timer: unknown;

  /** @param options - see {@link ReplicatorOptions} */
  constructor(options: ReplicatorOptions) {
    this.#o = options;
    const stop = this.#controller.signal;
    const onAuthError = (error: SyncError) => {
      this.#o.ctx.status.failed(error);
      this.stop();
      this.noteFailure(error);
      this.#o.onAuthPaused(error);
    };
    // Both loops read the parts they share with this replicator from its own options.
    this.#push = new PushLoop({
      ...options,
      stop,
      onAuthError,
      ownRevisions: this.#ownRevision,
    });
    this.#pull = new PullLoop({
      ...options,
      stop,
      onAuthError,
      // Payload pokes the pull loop could not apply: treated as the plain pokes they also are.
      onUnplacedPoke: (poke) => this.#plainPoke(poke),
    });
  }

  /** `true` once stopped (by the client, or by an auth failure). */
  get stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * Tells the watchers of {@link Replicator.watchFailures} about a failed attempt, numbered as
   * the retryer numbers them (`Infinity` for a failure that ends sync, like `auth`).
   */
  noteFailure(error: SyncError, attempt = Infinity): void {
    // No copy of the set: a watcher (`syncNow`'s) adds or removes none while it is called (it
    // resolves its wait, and unwatches once that has settled).
    for (const watcher of this.#failureWatchers) watcher(error, attempt);
  }

  /** Calls `watcher` with every failed attempt from now on; returns the unsubscribe. */
  watchFailures(watcher: (error: SyncError, attempt: number) => void): () => void {
    this.#failureWatchers.add(watcher);
    return () => this.#failureWatchers.delete(watcher);
  }

  /** Starts the loops, the poke subscription, the fallback timer and the online listener. */
  start(): void {
    const { transport, ctx } = this.#o;
    if (transport.subscribe !== undefined) {
      try {
        this.#cleanups.push(
          transport.subscribe({
            scopes: [...this.#o.scopes],
            onPoke: (poke) => this.#onPoke(poke),
            onConnect: () => void this.#pullAll(),
          }),
        );
      } catch {
        // Realtime is only a hint: without it the fallback pull keeps the data fresh.
      }
    }
    this.#cleanups.push(
      ctx.env.online.subscribe((online) => {
        if (online) {
          this.#push.schedule();
          void this.#pullAll();
        }
      }),
      // The fallback timer's: it never fires once stopped (so `#armTimer` does not check).
      () => ctx.env.clearTimeout(this.#timer),
    );
    this.#armTimer();
    this.#push.schedule();
    void this.#pullAll();
  }

  /**
   * Stops everything; in-flight requests are aborted and their mutations stay queued. Again,
   * nothing more happens (the signal is aborted once, the cleanups run once).
   */
  stop(): void {
    this.#controller.abort(new Error('sync stopped'));
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }

  /** A local write became durable: push soon. */
  schedulePush(): void {
    this.#push.schedule();
  }

  /**
   * Pushes, then pulls every scope; resolves when both are done (or sync stopped): `true` when
   * everything sendable was answered and every scope was pulled to its end.
   */
  async syncNow(): Promise<boolean> {
    await this.#push.run();
    const ok = await this.#pullAll();
    // Pulls can reveal nothing new to push, but a push answered during the pull may have
    // queued a resolver's rewrite: push once more so syncNow leaves nothing sendable behind.
    await this.#push.run();
    return ok && !this.#controller.signal.aborted && !this.#o.replica.outbox.hasSendable();
  }

  /** Pulls every scope; resolves `true` when each was pulled to its end (see #afterPull). */
  async #pullAll(): Promise<boolean> {
    const pulled = await Promise.all(this.#o.scopes.map((scope) => this.#pull.pull(scope)));
    const ok = pulled.every(Boolean);
    this.#afterPull(ok);
    return ok;
  }

  /**
   * A pull (or a poke's page) reached the end of the scope. `echo`: the page was the echo of
   * our own push, whose answer already set lastSyncedAt (moving it again a few ms later would
   * emit `synced` twice in a row).
   */
  #afterPull(ok: boolean, echo?: boolean): void {
    if (!ok || this.#controller.signal.aborted) return;
    const { ctx, replica } = this.#o;
    ctx.status.caughtUp(ctx.env.now(), !echo && replica.outbox.size === 0);
  }

  // Not checked against the stop signal: once stopped, the loops it asks do nothing.
  #onPoke(poke: Poke): void {
    if (!this.#o.scopes.includes(poke.scope)) return;
    if (isPagePoke(poke)) {
      // The changes came with the poke: applied with no request when they continue the
      // checkpoint (our own echo included, so the checkpoint keeps up), else #unplaced.
      void this.#pull
        .offer(poke)
        .then((ok) => this.#afterPull(ok, poke.originClientId === this.#o.clientId));
      return;
    }
    this.#plainPoke(poke);
  }

  #plainPoke(poke: Poke): void {
    const { scope, version } = poke;
    // Already there (a duplicate, or a poke that a later one overtook): nothing to pull.
    if (this.#pull.covers(scope, version)) return;
    if (poke.originClientId !== this.#o.clientId) {
      this.#pullScope(scope);
      return;
    }
    // The echo of our own push carries nothing we do not know, unless something else happened
    // in the scope. The poke can overtake the push's answer: decide once the push is answered.
    void this.#push
      .run()
      .catch(() => {})
      .then(() => {
        if (version > (this.#ownRevision.get(scope) ?? 0)) this.#pullScope(scope);
      });
  }

  #pullScope(scope: string): void {
    void this.#pull.pull(scope).then((ok) => this.#afterPull(ok));
  }

  #armTimer(): void {
    const { ctx, pullIntervalMs } = this.#o;
    if (!(pullIntervalMs > 0)) return;
    this.#timer = ctx.env.setTimeout(() => {
      void this.#pullAll();
      this.#push.schedule();
      this.#armTimer();
    }, pullIntervalMs);
  }
}
