/**
 * SEC-J1 against a server that verifies RS256 tokens from an identity provider's key set
 * (`jwtAuth({ jwksUrl })`): HS/RS key confusion, `alg: none`, and header injection (`kid`
 * with SQL or paths, an embedded `jwk`, a `jku` pointing at the attacker's key set).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTHeaderParameters, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuth } from '../../src/auth/jwt-auth.js';
import { createSyncHandler } from '../../src/handler.js';
import { type RunningServer, serve } from '../../src/node/serve.js';
import { call } from '../http-support.js';
import { freshUser } from '../support.js';
import type { SecFixture } from './fixture.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A key-set server on loopback that counts the requests it gets. */
async function keySetServer(
  jwks: () => unknown,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Registers the JWKS describe. */
export function secJwks(fx: () => SecFixture): void {
  describe('SEC-J1 key confusion and header injection against a JWKS (RS256) server', () => {
    let provider: Awaited<ReturnType<typeof keySetServer>>;
    let attacker: Awaited<ReturnType<typeof keySetServer>>;
    let rsServer: RunningServer;
    let keys: KeyPair;
    let evil: KeyPair;
    let publicJwk: Record<string, unknown>;
    let evilJwk: Record<string, unknown>;
    beforeAll(async () => {
      keys = await generateKeyPair('RS256', { extractable: true });
      evil = await generateKeyPair('RS256', { extractable: true });
      publicJwk = { ...(await exportJWK(keys.publicKey)), alg: 'RS256', kid: 'k1', use: 'sig' };
      evilJwk = { ...(await exportJWK(evil.publicKey)), alg: 'RS256', kid: 'k1', use: 'sig' };
      provider = await keySetServer(() => ({ keys: [publicJwk] }));
      attacker = await keySetServer(() => ({ keys: [evilJwk] }));
      rsServer = await serve(
        createSyncHandler({
          store: fx().store,
          authenticate: jwtAuth({ jwksUrl: provider.url, audience: 'syncline' }),
          logger: { error: (m, d) => fx().logged.push([m, d]), warn: () => undefined },
        }),
        { port: 0 },
      );
    });
    afterAll(async () => {
      await rsServer?.close();
      await provider?.close();
      await attacker?.close();
    });

    const sign = (
      userId: string,
      header: JWTHeaderParameters,
      key: KeyPair['privateKey'] | Uint8Array,
    ) =>
      new SignJWT({ session_id: 's' })
        .setProtectedHeader(header)
        .setSubject(userId)
        .setAudience('syncline')
        .setExpirationTime('1h')
        .sign(key);

    it('accepts RS256 from the key set; refuses HS256 keyed with the public key, and alg none', async () => {
      const userId = freshUser();
      const url = `${rsServer.url}/v1/pull?scope=user:${userId}`;
      const rs = await sign(userId, { alg: 'RS256', kid: 'k1' }, keys.privateKey);
      expect((await call(url, { token: rs })).status).toBe(200);
      // The classic confusion: HMAC keyed with the public key's bytes (JWK JSON or modulus).
      for (const secret of [JSON.stringify(publicJwk), String(publicJwk.n)]) {
        const forged = await sign(
          userId,
          { alg: 'HS256', kid: 'k1' },
          new TextEncoder().encode(secret),
        );
        expect((await call(url, { token: forged })).status).toBe(401);
      }
      const [header, payload] = rs.split('.');
      expect(
        (await call(url, { token: `${b64({ alg: 'none', kid: 'k1' })}.${payload}.` })).status,
      ).toBe(401);
      expect((await call(url, { token: `${header}.${payload}.` })).status).toBe(401);
    });

    it('an injected kid, an embedded jwk or a jku of the attacker is never trusted', async () => {
      const f = fx();
      const userId = freshUser();
      const url = `${rsServer.url}/v1/pull?scope=user:${userId}`;
      const before = await f.fingerprint();
      const tokens = {
        sqlKid: await sign(userId, { alg: 'RS256', kid: "k1' OR '1'='1" }, keys.privateKey),
        pathKid: await sign(userId, { alg: 'RS256', kid: '../../../dev/null' }, evil.privateKey),
        embeddedJwk: await sign(
          userId,
          { alg: 'RS256', kid: 'k1', jwk: evilJwk as never },
          evil.privateKey,
        ),
        attackerJku: await sign(
          userId,
          { alg: 'RS256', kid: 'k1', jku: attacker.url },
          evil.privateKey,
        ),
        attackerX5u: await sign(
          userId,
          { alg: 'RS256', kid: 'k1', x5u: attacker.url },
          evil.privateKey,
        ),
      };
      for (const [name, token] of Object.entries(tokens)) {
        const answer = await call(url, { token });
        expect({ name, status: answer.status }).toEqual({ name, status: 401 });
      }
      expect(attacker.hits()).toBe(0);
      expect(await f.fingerprint()).toBe(before);
    });
  });
}
