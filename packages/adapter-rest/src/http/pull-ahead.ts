/**
 * Pull-ahead: when a pull page says `hasMore`, the request for the next page (the same scope
 * and limit, from the page's checkpoint) is sent at once, while the client applies the page it
 * has. The client's next pull then finds it under way or done. During an initial sync the
 * server reads page N+1 while the client reads and stores page N, instead of each waiting for
 * the other.
 *
 * "At once" is as soon as the page's checkpoint is known: a syncline server repeats it in the
 * answer's headers (`syncline-next-checkpoint`), so the next request goes out
 * before this page's body is read and parsed; without those headers, when the page is parsed.
 * At most one page is fetched ahead per scope: the next one is asked for once the client has
 * asked for this one (so the server is never more than one page ahead of the client).
 *
 * A page fetched ahead is a pull answer like any other: it was read after the client's
 * checkpoint was issued, so what it holds, and the checkpoint it hands out, are exactly what a
 * pull sent a moment later could have answered. It is used once, only for the identical request
 * (scope, checkpoint, limit), only while the signed-in session is the one it was fetched for,
 * and only for 10 s; a failed one is forgotten and the pull is sent normally. A header
 * that disagrees with its body only costs a request: the client's next pull carries the body's
 * checkpoint, which the page fetched ahead then does not match.
 *
 * @module
 */
import type { AuthSession, PullRequest, PullResponse, SessionSource } from '@syncline/sync-core';
import { SyncError } from '@syncline/sync-core';

/** One pull request of a scope, sent by the client or ahead of it. */
interface Pull {
  request: PullRequest;
  /** The checkpoint the next page starts from, once known (`hasMore` only). */
  next?: string;
  /** The next page, fetched ahead (at most one per pull, so at most one per scope). */
  ahead?: Ahead;
}

/** A pull sent ahead of the client. */
interface Ahead extends Pull {
  /** Whom it was fetched for. */
  session: AuthSession;
  fetchedAt: number;
  /** `undefined` when the request failed (the pull is then sent normally). */
  page: Promise<PullResponse | undefined>;
}

/**
 * Sends one pull (the transport's own; the client checks the page it takes). It calls `onMore`
 * with the page's checkpoint when its answer's headers say more pages follow, before the body
 * is read.
 */
export type PullOnce = (
  request: PullRequest,
  signal: AbortSignal | undefined,
  onMore: (checkpoint: string) => void,
) => Promise<PullResponse>;

/**
 * A transport's `pull` that fetches the next page of a scope ahead of the client; see the module
 * doc. `pullOnce` sends one pull, `session` says who is signed in (nothing is fetched ahead
 * without one), `now` is the clock.
 */
export function pullAhead(
  pullOnce: PullOnce,
  session: SessionSource,
  now: () => number,
): (request: PullRequest, signal?: AbortSignal) => Promise<PullResponse> {
  /**
   * The latest pull the client asked for, per scope: its next page may be fetched ahead, and is
   * kept on it (a page fetched ahead is used, or dropped, by the client's next pull).
   */
  const asked = new Map<string, Pull>();

  // Sends `pull`; where the next page starts comes from the headers, else from the body, and it
  // is fetched ahead if the client asked for `pull`.
  const send = async (pull: Pull, signal?: AbortSignal): Promise<PullResponse> => {
    const onMore = (next: string) => {
      pull.next ??= next;
      if (asked.get(pull.request.scope) === pull) fetchAfter(pull);
    };
    const page = await pullOnce(pull.request, signal, onMore);
    if (page.hasMore) onMore(page.checkpoint);
    return page;
  };

  // Fetches the page after `pull` (the latest the client asked for), once.
  const fetchAfter = (pull: Pull): void => {
    const current = session.current();
    if (pull.next === undefined || !current || pull.ahead) return;
    const request: PullRequest = { ...pull.request, checkpoint: pull.next };
    const ahead = { request, session: current, fetchedAt: now() } as Ahead;
    // A failure is not reported here: the client's own pull of this page reports it.
    ahead.page = send(ahead).catch(() => undefined);
    pull.ahead = ahead;
  };

  // Answers `request` from the page fetched ahead of the scope's last pull when it matches, else
  // sends it.
  return async (request, signal) => {
    const ahead = asked.get(request.scope)?.ahead;
    const current = session.current();
    const usable =
      // The same request (the scope is the map's key).
      ahead?.request.checkpoint === request.checkpoint &&
      ahead.request.limit === request.limit &&
      // Fetched at most 10 s ago.
      now() - ahead.fetchedAt <= 10_000 &&
      current?.userId === ahead.session.userId &&
      current.sessionId === ahead.session.sessionId;
    const pull: Pull = usable ? ahead : { request };
    asked.set(request.scope, pull);
    fetchAfter(pull);
    const page = usable ? await abortable(ahead.page, signal) : undefined;
    return page ?? send(pull, signal);
  };
}

// The caller's signal still ends its wait (the request fetched ahead runs on by itself).
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SyncError('network', 'pull was aborted', { code: 'aborted' }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort);
    promise.then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort));
  });
}
