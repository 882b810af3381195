/**
 * Remembers which sessions were found not revoked, so that every authenticated request does
 * not cost a database read. A revocation (or a re-login that replaces a session) sends a
 * `session` event to every server process on the database after it commits; hearing it drops
 * what is remembered of that user, so a revoked token is refused from the next request on.
 *
 * @module
 */
import type { AuthContext } from '../store/types.js';
import type { TargetingStore } from './types.js';

// Past this many remembered sessions, everything is forgotten (and read again as needed).
const MAX_REMEMBERED = 10_000;

/** The revoked check of one handler. */
export class RevocationCache {
  readonly #targeting: TargetingStore;
  /** Not-revoked session ids, per user. */
  readonly #live = new Map<string, Set<string>>();
  #size = 0;
  /** Counts session events: a read that overlapped one is not remembered. */
  #epoch = 0;

  constructor(targeting: TargetingStore) {
    this.#targeting = targeting;
    targeting.onEvent((event) => {
      if (event.type === 'session') this.forget(event.userId);
    });
  }

  /**
   * Forgets what is remembered of `userId`'s sessions. The routes that revoke call it before
   * answering, so this process refuses a revoked token at once; other processes hear the
   * `session` event a moment after the commit.
   */
  forget(userId: string): void {
    this.#epoch++;
    const sessions = this.#live.get(userId);
    if (sessions === undefined) return;
    this.#size -= sessions.size;
    this.#live.delete(userId);
  }

  /**
   * `true` when `auth`'s session was found not revoked and no session event of its user was
   * heard since: the session may be sent what it could list itself (a delivery on a hint).
   * `false` says only "not known": ask {@link isRevoked}.
   */
  knownLive(auth: AuthContext): boolean {
    return this.#live.get(auth.userId)?.has(auth.sessionId) === true;
  }

  /** `true` when the caller's session was signed out. */
  async isRevoked(auth: AuthContext): Promise<boolean> {
    if (this.knownLive(auth)) return false;
    // A session event heard while the database answered may be this session's revocation:
    // the answer is then used once, not remembered.
    const epoch = this.#epoch;
    if (await this.#targeting.isRevoked(auth)) return true;
    if (this.#epoch !== epoch) return false;
    let sessions = this.#live.get(auth.userId);
    if (this.#size >= MAX_REMEMBERED) {
      this.#live.clear();
      this.#size = 0;
    }
    if (sessions === undefined) {
      sessions = new Set();
      this.#live.set(auth.userId, sessions);
    }
    if (!sessions.has(auth.sessionId)) {
      sessions.add(auth.sessionId);
      this.#size++;
    }
    return false;
  }
}
