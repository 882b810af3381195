import type { SyncTransport } from '../../transport/types.js';

/**
 * The transport under test, as the conformance suite reaches it. Every case signs in fresh
 * users (ids unique to the run), so the suite needs no reset between cases and may share a
 * backend with other tests.
 *
 * What the suite relies on, each stated so an adapter author knows what to provide:
 * - `connect(userId)` returns a transport signed in as that user, whose own scope is
 *   `user:<userId>` (the default scope of DESIGN §2), readable and writable by that user only.
 * - The user ids it passes are 1–40 characters of `[a-z0-9-]`; the backend must accept them as
 *   new users (sign-up on first use, as dev auth does).
 * - Nothing else runs in those users' scopes while a case runs.
 */
export interface ConformanceSubject {
  /**
   * A short name for reports, e.g. `"rest (PGlite)"`.
   */
  name: string;
  /** A transport signed in as `userId`. Called several times per case, once per device. */
  connect(userId: string): SyncTransport | Promise<SyncTransport>;
  /**
   * A transport that believes it is signed in as `userId` but whose credentials the backend
   * refuses (an expired or forged token). Without it the `auth` case is skipped and says so.
   */
  connectUnauthorized?(userId: string): SyncTransport | Promise<SyncTransport>;
  /**
   * A transport, signed in as `userId`, whose backend will answer its next request with "slow
   * down" (HTTP 429 with `Retry-After`, or the backend's equivalent), e.g. a server started with
   * a tiny rate limit. Without it the `rate-limit` case is skipped and says so.
   */
  connectRateLimited?(userId: string): SyncTransport | Promise<SyncTransport>;
  /**
   * What the backend supports beyond push, pull, revision checks and tombstones.
   * @default { patch: true, transactions: true, mutationHlc: true }
   */
  capabilities?: ConformanceCapabilities;
  /**
   * Cleans up after the run (closes servers or clients the subject opened).
   * @default undefined (nothing to do)
   */
  close?(): void | Promise<void>;
}

/** Optional parts of the protocol a backend may not support; their cases are skipped. */
export interface ConformanceCapabilities {
  /**
   * `patch` mutations merge their top-level fields into the record.
   * @default true
   */
  patch?: boolean;
  /**
   * Mutations sharing a `txId` apply atomically (all or none).
   * @default true
   */
  transactions?: boolean;
  /**
   * A pulled record carries the `hlc` of the mutation that wrote it. A backend that keeps no
   * HLC (a resource API) derives it from its own updated-at time instead; then the suite only
   * checks that it is a valid HLC.
   * @default true
   */
  mutationHlc?: boolean;
}

/** One rule of the transport contract, as a runnable check. */
export interface ConformanceCase {
  /** Stable id of the rule, e.g. `push.idempotent`; every failure message starts with it. */
  id: string;
  /** What the rule says, in one sentence. */
  title: string;
  /**
   * Why the case cannot run against this subject (a missing capability or hook), or
   * `undefined` when it runs.
   */
  skipReason: string | undefined;
  /** Runs the check; rejects with a {@link ConformanceFailure} naming the broken rule. */
  run(): Promise<void>;
}
