import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createLogger } from '../../src/logger.js';
import { BACKCHANNEL_LOGOUT_EVENT, InvalidLogoutToken, verifyLogoutToken } from '../../src/backchannel/verifyLogoutToken.js';
import { createOidcClient, type OidcClient } from '../../src/oidc/oidcClient.js';
import { createSigningKeys } from '../../src/oidc/signingKeys.js';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/**
 * Issue 8 item 7: the provider publishes a new signing key and signs the next logout token with
 * it, moments after the app last fetched the JWKS. A real JWKS is served over HTTP by the test (as
 * the provider would: discovery, then jwks_uri), and the app's own OIDC client fetches it.
 */
describe('a signing key rotated at the provider', () => {
  let server: Server;
  let issuer: string;
  let published: JWK[] = [];
  let fetches = 0;
  let oidc: OidcClient;
  const keys = new Map<string, Key>();

  const addKey = async (kid: string) => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    keys.set(kid, pair.privateKey);
    return { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
  };
  const sign = (kid: string, key = keys.get(kid)!) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: issuer, aud: 'board-bff', iat: now, exp: now + 120, jti: crypto.randomUUID(), sub: 'alice', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' })
      .sign(key);
  };
  const verify = (token: string) =>
    verifyLogoutToken(token, { issuer, audience: 'board-bff', algorithm: 'RS256', keys: oidc.signingKeys(), clockToleranceSeconds: 30 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token` }));
        return;
      }
      fetches++;
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    published = [await addKey('k1')];
    const config = loadConfig({ OIDC_ISSUER: issuer, CLIENT_ID: 'board-bff', CLIENT_SECRET: 'secret', OIDC_JWKS_COOLDOWN_MS: '1500' });
    oidc = createOidcClient(config.oidc, createLogger({ level: 'silent' }));
    await oidc.whenReady();
  });
  afterAll(async () => {
    oidc?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('when a token signed with a key published right after our last fetch arrives, then it verifies against the refreshed set', async () => {
    await verify(await sign('k1'));
    expect(fetches).toBe(1);
    published = [...published, await addKey('k2')];
    // Inside the cooldown of the fetch just made: the request waits for the next fetch instead of failing.
    await expect(verify(await sign('k2'))).resolves.toMatchObject({ sub: 'alice' });
    expect(fetches).toBe(2);
  });

  it('when many tokens with the new key arrive at once, then one fetch serves them all', async () => {
    published = [await addKey('k3')];
    const before = fetches;
    const tokens = await Promise.all(Array.from({ length: 20 }, () => sign('k3')));
    const results = await Promise.all(tokens.map(verify));
    expect(results).toHaveLength(20);
    expect(fetches - before).toBe(1);
  });

  it('when a flood of tokens carries made-up kids, then they are refused after one fetch, not one each', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey;
    const before = fetches;
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => sign(`made-up-${i}`, stranger)));
    const results = await Promise.all(tokens.map((token) => verify(token).catch((err: unknown) => err)));
    for (const result of results) {
      expect(result).toBeInstanceOf(InvalidLogoutToken);
      expect((result as Error).message).toMatch(/no key of the issuer matches/);
    }
    expect(fetches - before).toBe(1);
  });

  it('when the cached set is stale and the JWKS endpoint fails, then the known keys keep verifying', async () => {
    let up = true;
    const flaky = createServer((_req, res) => {
      if (!up) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      let now = Date.now();
      const getKey = createSigningKeys(new URL(`http://127.0.0.1:${(flaky.address() as AddressInfo).port}/jwks`), {
        cooldownMs: 0,
        cacheMaxAgeMs: 60_000,
        timeoutMs: 2000,
        now: () => now,
      });
      const policy = { issuer, audience: 'board-bff', algorithm: 'RS256', keys: getKey, clockToleranceSeconds: 30 };
      await verifyLogoutToken(await sign('k3'), policy);
      up = false;
      now += 120_000;
      await expect(verifyLogoutToken(await sign('k3'), policy)).resolves.toMatchObject({ sub: 'alice' });
    } finally {
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });
});
