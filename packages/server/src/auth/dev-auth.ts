/**
 * Development auth for demos and tests: anyone may get a token for any user id. Never enable
 * it on a server reachable by others.
 *
 * @module
 */
import type { SyncEnvironment } from '@syncline/sync-core';
import { isScope } from '@syncline/sync-core/protocol';
import { SignJWT } from 'jose';
import { jwtAuth } from './jwt-auth.js';
import type { Authenticate } from './types.js';

/** Options of {@link devAuth}. */
export interface DevAuthOptions {
  /** Lifetime of issued tokens in seconds. @default 86400 (a day) */
  tokenTtlSeconds?: number;
  /**
   * Injected time, as in every syncline part: `now()` in epoch milliseconds (token times).
   * @default the real clock (`Date.now`)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
  /** Random bytes (the signing secret, session ids). @default crypto.getRandomValues */
  randomBytes?: (length: number) => Uint8Array;
  /**
   * The HS256 signing secret (at least 16 bytes). Keep it across restarts and tokens stay valid:
   * `startServer({ dataDir })` and the CLI keep it in the data directory.
   * @default 32 random bytes (tokens die with the process)
   */
  secret?: Uint8Array;
}

/** The answer of `POST /v1/dev/token`. */
export interface DevToken {
  /** Bearer token (HS256 JWT signed with this process's secret). */
  token: string;
  /** The new session the token belongs to. */
  sessionId: string;
}

/** Development auth: an {@link Authenticate} plus the token issuer behind `POST /v1/dev/token`. */
export interface DevAuth {
  /** Verifies tokens that this process issued. */
  authenticate: Authenticate;
  /** Issues a token for `userId` with a new session id. */
  issueToken(userId: string): Promise<DevToken>;
  /** `true` when `userId` can be signed in (its own scope `user:<id>` must be well formed). */
  acceptsUserId(userId: unknown): userId is string;
}

const ISSUER = 'syncline-dev';
const AUDIENCE = 'syncline';

/**
 * Creates development auth. Without `secret`, a random per-process HS256 secret: tokens die
 * with the process and a token from one server process is not valid on another.
 */
export function devAuth(options: DevAuthOptions = {}): DevAuth {
  const now = options.environment?.now ?? Date.now;
  const randomBytes =
    options.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  if (options.secret !== undefined && options.secret.length < 16) {
    throw new TypeError('devAuth: a secret must have at least 16 bytes');
  }
  const secret = options.secret ?? randomBytes(32);
  const ttl = options.tokenTtlSeconds ?? 86_400;
  const hex = (bytes: Uint8Array) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return {
    authenticate: jwtAuth({
      secret,
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      environment: { now },
    }),
    acceptsUserId(userId): userId is string {
      return (
        typeof userId === 'string' &&
        userId.length <= 128 &&
        /^[\x21-\x7e]+$/.test(userId) &&
        isScope(`user:${userId}`)
      );
    },
    async issueToken(userId) {
      const sessionId = `dev-${hex(randomBytes(12))}`;
      const issuedAt = Math.floor(now() / 1000);
      const token = await new SignJWT({ session_id: sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttl)
        .sign(secret);
      return { token, sessionId };
    },
  };
}
