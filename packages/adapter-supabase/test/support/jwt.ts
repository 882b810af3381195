/** HS256 JWTs as Supabase Auth issues them, and their verification as PostgREST does it. */
import { errors, jwtVerify, SignJWT } from 'jose';

/** The stand-in project's JWT secret (Supabase: "JWT Secret" in the API settings). */
export const JWT_SECRET = 'syncline-test-jwt-secret-at-least-32-characters-long';
const KEY = new TextEncoder().encode(JWT_SECRET);
/** Issuer of the stand-in's tokens. */
export const ISSUER = 'http://127.0.0.1/auth/v1';

/** Signs `claims` (HS256) valid for `expiresInSeconds`. */
export async function signJwt(
  claims: Record<string, unknown>,
  expiresInSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + expiresInSeconds)
    .sign(KEY);
}

/** The project's anon key: a JWT with role anon (the classic Supabase API key). */
export function anonKey(): Promise<string> {
  return signJwt({ iss: 'supabase', role: 'anon' }, 10 * 365 * 24 * 3600);
}

/** The project's service-role key: a JWT with role service_role (bypasses RLS; server side only). */
export function serviceRoleKey(): Promise<string> {
  return signJwt({ iss: 'supabase', role: 'service_role' }, 10 * 365 * 24 * 3600);
}

/** Why a bearer token was refused, in PostgREST's terms. */
export interface JwtRefusal {
  code: 'PGRST301' | 'PGRST303';
  message: string;
}

/**
 * Verifies a bearer as PostgREST does: HS256 with the secret, `exp` with 30 s of clock skew.
 * A bearer that is not a JWT (three dot-separated parts) means the anon role.
 */
export async function verifyBearer(
  token: string | undefined,
): Promise<{ claims: Record<string, unknown> } | { refused: JwtRefusal }> {
  if (token === undefined || token.split('.').length !== 3) return { claims: { role: 'anon' } };
  try {
    const { payload } = await jwtVerify(token, KEY, { algorithms: ['HS256'], clockTolerance: 30 });
    return { claims: payload as Record<string, unknown> };
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      return { refused: { code: 'PGRST303', message: 'JWT expired' } };
    }
    return { refused: { code: 'PGRST301', message: 'JWSError JWSInvalidSignature' } };
  }
}
