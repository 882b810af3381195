import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuth } from '../src/auth/jwt-auth.js';

const request = (token: string) =>
  new Request('http://x/v1/pull', { headers: { authorization: `Bearer ${token}` } });

describe('jwtAuth with a JWKS URL', () => {
  let server: Server;
  let jwksUrl: string;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const rs256 = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ sid: 'sess-9', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('alice')
      .setAudience('app')
      .setExpirationTime('5m')
      .sign(keys.privateKey);

  it('accepts a token signed by a key of the set, with sid as the session', async () => {
    const authenticate = jwtAuth({ jwksUrl, audience: 'app' });
    const token = await rs256();
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    // The token's exp travels with the caller, so an event stream ends with it.
    await expect(authenticate(request(token))).resolves.toEqual({
      userId: 'alice',
      sessionId: 'sess-9',
      expiresAt: exp * 1000,
    });
  });

  it('refuses HS256 signed with the public key (algorithm confusion) and alg none', async () => {
    const authenticate = jwtAuth({ jwksUrl, audience: 'app' });
    const pem = new TextEncoder().encode(await exportSPKI(keys.publicKey));
    const confused = await new SignJWT({ sid: 's' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('alice')
      .setAudience('app')
      .setExpirationTime('5m')
      .sign(pem);
    await expect(authenticate(request(confused))).resolves.toBeNull();
    const [header, payload] = (await rs256()).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect(header).toBeDefined();
    await expect(authenticate(request(none))).resolves.toBeNull();
  });

  it('answers 503 (retry later), not 401, when the key set cannot be fetched', async () => {
    const authenticate = jwtAuth({ jwksUrl: 'http://127.0.0.1:9/jwks.json', audience: 'app' });
    await expect(authenticate(request(await rs256()))).rejects.toMatchObject({
      name: 'SyncError',
      status: 503,
    });
  });

  it('refuses a missing or non-bearer header', async () => {
    const authenticate = jwtAuth({ secret: 'x'.repeat(32) });
    await expect(authenticate(new Request('http://x/'))).resolves.toBeNull();
    await expect(
      authenticate(new Request('http://x/', { headers: { authorization: 'Basic YTpi' } })),
    ).resolves.toBeNull();
  });

  it('needs exactly one of secret and jwksUrl', () => {
    expect(() => jwtAuth({})).toThrow(TypeError);
    expect(() => jwtAuth({ secret: 'a', jwksUrl: 'http://x' })).toThrow(TypeError);
  });
});

describe('jwtAuth with a shared secret, asked again for the same token', () => {
  const secret = 'a-shared-secret-of-32-bytes-long!';
  const hs256 = (key: string, times: { exp: number; nbf?: number }) => {
    const jwt = new SignJWT({ session_id: 's1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setExpirationTime(times.exp);
    if (times.nbf !== undefined) jwt.setNotBefore(times.nbf);
    return jwt.sign(new TextEncoder().encode(key));
  };

  it('still refuses a token once it expires, and before its nbf', async () => {
    let nowMs = 1_000_000_000_000;
    const authenticate = jwtAuth({
      secret,
      environment: { now: () => nowMs },
      clockToleranceSeconds: 5,
    });
    const token = await hs256(secret, { exp: nowMs / 1000 + 60, nbf: nowMs / 1000 - 10 });
    const bob = { userId: 'bob', sessionId: 's1', expiresAt: nowMs + 60_000 };
    await expect(authenticate(request(token))).resolves.toEqual(bob);
    await expect(authenticate(request(token))).resolves.toEqual(bob);
    nowMs -= 20_000; // the clock steps back before nbf - tolerance
    await expect(authenticate(request(token))).resolves.toBeNull();
    nowMs += 20_000 + 64_000; // 4 s past exp: still inside the tolerance
    await expect(authenticate(request(token))).resolves.toEqual(bob);
    nowMs += 2_000; // 6 s past exp
    await expect(authenticate(request(token))).resolves.toBeNull();
    nowMs -= 2_000; // and it stays refused only by its times, exactly as before
    await expect(authenticate(request(token))).resolves.toEqual(bob);
  });

  it('refuses a token signed with another secret, even after accepting a good one', async () => {
    const authenticate = jwtAuth({ secret });
    const exp = Math.floor(Date.now() / 1000) + 60;
    await expect(authenticate(request(await hs256(secret, { exp })))).resolves.not.toBeNull();
    await expect(authenticate(request(await hs256(`${secret}x`, { exp })))).resolves.toBeNull();
  });
});
