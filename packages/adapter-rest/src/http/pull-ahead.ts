/**
 * Pull-ahead: when a pull page says `hasMore`, the request for the next page (the same scope
 * and limit, from the page's checkpoint) is sent at once, while the client applies the page it
 * has. The client's next pull then finds it under way or done. During an initial sync the
 * server reads page N+1 while the client stores page N, instead of each waiting for the other.
 *
 * A page fetched ahead is a pull answer like any other: it was read after the client's
 * checkpoint was issued, so what it holds, and the checkpoint it hands out, are exactly what a
 * pull sent a moment later could have answered. It is used once, only for the identical request
 * (scope, checkpoint, limit), only while the signed-in session is the one it was fetched for,
 * and only for `maxAgeMs`; a failed one is forgotten and the pull is sent normally.
 *
 * @module
 */
import type { AuthSession, PullRequest, PullResponse, SessionSource } from '@syncline/sync-core';
import { SyncError } from '@syncline/sync-core';

/** What a page fetched ahead belongs to. */
interface Ahead {
  key: string;
  userId: string;
  sessionId: string;
  fetchedAt: number;
  /** `undefined` when the request failed (the pull is then sent normally). */
  page: Promise<PullResponse | undefined>;
}

/** Options of {@link PullAhead}. */
export interface PullAheadOptions {
  /** Sends one pull (the transport's own, validated). */
  send: (request: PullRequest, signal?: AbortSignal) => Promise<PullResponse>;
  /** Who is signed in; nothing is fetched ahead without one. */
  session: SessionSource;
  /** The clock, in milliseconds. */
  now: () => number;
  /** How long a page fetched ahead may wait to be used. */
  maxAgeMs: number;
}

const keyOf = (request: PullRequest) =>
  JSON.stringify([request.scope, request.checkpoint, request.limit ?? null]);

/** Fetches the next page of a scope ahead of the client; see the module doc. */
export class PullAhead {
  readonly #o: PullAheadOptions;
  // At most one page ahead per scope: the next one is asked for when this one is taken.
  readonly #ahead = new Map<string, Ahead>();

  /** @param options - see {@link PullAheadOptions} */
  constructor(options: PullAheadOptions) {
    this.#o = options;
  }

  /** Answers `request` from a page fetched ahead when it matches, else sends it. */
  async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
    const ahead = this.#take(request);
    let page: PullResponse | undefined;
    if (ahead !== undefined) page = await abortable(ahead.page, signal);
    page ??= await this.#o.send(request, signal);
    if (page.hasMore) this.#fetchNext(request, page);
    return page;
  }

  #take(request: PullRequest): Ahead | undefined {
    const ahead = this.#ahead.get(request.scope);
    if (ahead === undefined) return undefined;
    this.#ahead.delete(request.scope);
    const session = this.#o.session.current();
    const fresh = this.#o.now() - ahead.fetchedAt <= this.#o.maxAgeMs;
    return ahead.key === keyOf(request) && fresh && sameSession(session, ahead) ? ahead : undefined;
  }

  #fetchNext(request: PullRequest, page: PullResponse): void {
    const session = this.#o.session.current();
    if (session === null) return;
    const next: PullRequest = { ...request, checkpoint: page.checkpoint };
    this.#ahead.set(request.scope, {
      key: keyOf(next),
      userId: session.userId,
      sessionId: session.sessionId,
      fetchedAt: this.#o.now(),
      // A failure is not reported here: the client's own pull of this page reports it.
      page: this.#o.send(next).catch(() => undefined),
    });
  }
}

function sameSession(session: AuthSession | null, ahead: Ahead): boolean {
  return (
    session !== null && session.userId === ahead.userId && session.sessionId === ahead.sessionId
  );
}

// The caller's signal still ends its wait (the request fetched ahead runs on by itself).
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const aborted = () => new SyncError('network', 'pull was aborted', { code: 'aborted' });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
