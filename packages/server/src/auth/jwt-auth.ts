/**
 * JWT verification with `jose`, for tokens from the app's identity provider.
 *
 * @module
 */
import type { SyncEnvironment } from '@syncline/sync-core';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { problem } from '../http/problem.js';
import type { AuthContext } from '../store/types.js';
import { type Authenticate, type AuthenticatedCaller, bearerToken } from './types.js';

/** Options of {@link jwtAuth}: a shared secret or a JWKS URL, plus claim checks. */
export interface JwtAuthOptions {
  /** Shared secret of HS256/384/512 tokens (a string is used as UTF-8 bytes). */
  secret?: string | Uint8Array;
  /** URL of the identity provider's JSON Web Key Set, for RS/PS/ES/EdDSA tokens. */
  jwksUrl?: string | URL;
  /** Required `iss` claim. @default undefined (not checked) */
  issuer?: string | string[];
  /** Required `aud` claim. @default undefined (not checked) */
  audience?: string | string[];
  /**
   * Accepted `alg` values. Always an explicit list, so `alg: none` and HS/RS confusion are
   * refused. @default ['HS256', 'HS384', 'HS512'] with `secret`; ['RS256', 'RS384', 'RS512',
   * 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] with `jwksUrl`
   */
  algorithms?: string[];
  /** Allowed clock difference in seconds for `exp`/`nbf`. @default 5 */
  clockToleranceSeconds?: number;
  /**
   * Injected time, as in every syncline part: `now()` in epoch milliseconds (`exp`/`nbf` checks).
   * @default the real clock (`Date.now`)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
  /**
   * Reads the session id from the verified claims.
   * @default `session_id`, then `sid` (a token without either is refused)
   */
  sessionIdFrom?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const MAX_CLAIM = 256;
// Most verified tokens remembered (oldest forgotten first); a few MB at most.
const MAX_VERIFIED = 10_000;

/**
 * Verifies bearer JWTs: signature (only the allowed algorithms), `exp`/`nbf`, and `iss`/`aud`
 * when configured. The user is `sub`; the session is `session_id` (or `sid`). Any other claim,
 * a `role` included, is ignored: a token grants nothing beyond its user's own scopes.
 *
 * @example
 * ```ts
 * const authenticate = jwtAuth({ secret: process.env.JWT_SECRET!, audience: 'authenticated' });
 * const handler = createSyncHandler({ store, authenticate });
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): Authenticate {
  const key = verificationKey(options);
  const algorithms = options.algorithms ?? (options.secret === undefined ? ASYMMETRIC : HMAC);
  const now = options.environment?.now ?? Date.now;
  const sessionIdFrom =
    options.sessionIdFrom ??
    ((claims: Readonly<Record<string, unknown>>) => {
      const value = claims.session_id ?? claims.sid;
      return typeof value === 'string' ? value : undefined;
    });
  // With a fixed secret, a token's signature and claims verify the same way every time; only
  // exp/nbf depend on the clock. So a verified token is remembered and only its times are
  // checked again: HMAC verification through WebCrypto was ~17% of a busy server's CPU (every
  // pull of every device carries the token). Not with a JWKS, whose keys may be withdrawn.
  const verified =
    options.secret === undefined
      ? undefined
      : new Map<
          string,
          { auth: AuthenticatedCaller; exp: number | undefined; nbf: number | undefined }
        >();
  return async (request) => {
    const token = bearerToken(request);
    if (token === null) return null;
    const tolerance = options.clockToleranceSeconds ?? 5;
    const cached = verified?.get(token);
    if (cached !== undefined) {
      // jose's time checks, the only ones whose answer can change for the same token.
      const seconds = Math.floor(now() / 1000);
      if (cached.nbf !== undefined && cached.nbf > seconds + tolerance) return null;
      if (cached.exp !== undefined && cached.exp <= seconds - tolerance) {
        verified?.delete(token);
        return null;
      }
      return cached.auth;
    }
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms,
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
        ...(options.audience === undefined ? {} : { audience: options.audience }),
      });
      payload = result.payload;
    } catch (error) {
      // The identity provider's key set could not be fetched: not the client's fault, so a
      // retryable 503 rather than a 401 that would make every client drop its session.
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
        throw problem(503, 'unavailable', 'the token cannot be verified right now');
      }
      // Forged, expired, wrong audience, unknown key, malformed: all the same 401.
      return null;
    }
    const identity = claimsToAuth(payload.sub, sessionIdFrom(payload));
    // `exp` travels with the caller, so an event stream opened with the token ends with it.
    const auth: AuthenticatedCaller | null =
      identity === null || payload.exp === undefined
        ? identity
        : { ...identity, expiresAt: payload.exp * 1000 };
    if (auth !== null && verified !== undefined) {
      if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
      verified.set(token, { auth, exp: payload.exp, nbf: payload.nbf });
    }
    return auth;
  };
}

/** Checks the identity claims; user and session ids must be short printable strings. */
export function claimsToAuth(
  userId: string | undefined,
  sessionId: string | undefined,
): AuthContext | null {
  const ok = (v: string | undefined): v is string =>
    typeof v === 'string' && v.length > 0 && v.length <= MAX_CLAIM && /^[\x21-\x7e]+$/.test(v);
  return ok(userId) && ok(sessionId) ? { userId, sessionId } : null;
}

function verificationKey(options: JwtAuthOptions): Uint8Array | JWTVerifyGetKey {
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) {
    throw new TypeError('jwtAuth needs exactly one of `secret` or `jwksUrl`');
  }
  if (options.secret !== undefined) {
    return hmacKeys(
      typeof options.secret === 'string'
        ? new TextEncoder().encode(options.secret)
        : options.secret,
    );
  }
  return createRemoteJWKSet(new URL(options.jwksUrl as string | URL));
}

const HMAC_HASH: Readonly<Record<string, string>> = {
  HS256: 'SHA-256',
  HS384: 'SHA-384',
  HS512: 'SHA-512',
};

/**
 * The secret as a key imported once per HMAC algorithm: given raw bytes, `jose` imports the
 * key again on every verification, which cost ~10% of a busy server's CPU. The algorithm list
 * is still checked by `jwtVerify` before the key is asked for, and `jose` checks that the key
 * matches the token's `alg`. Anything else (an empty secret, a non-HMAC alg) gets the raw
 * bytes, exactly as before.
 */
function hmacKeys(secret: Uint8Array): JWTVerifyGetKey {
  const keys = new Map<string, Promise<CryptoKey>>();
  return (header) => {
    const alg = header.alg ?? '';
    const hash = HMAC_HASH[alg];
    if (hash === undefined || secret.length === 0) return secret;
    let key = keys.get(alg);
    if (key === undefined) {
      key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash }, false, [
        'verify',
      ]);
      keys.set(alg, key);
    }
    return key;
  };
}
