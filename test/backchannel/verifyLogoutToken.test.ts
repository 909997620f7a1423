import { generateKeyPairSync, KeyObject, sign as nodeSign, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningKeysUnavailable } from '../../src/backchannel/jwsChecks.js';
import { BACKCHANNEL_LOGOUT_EVENT, InvalidLogoutToken, verifyLogoutToken, type LogoutTokenPolicy } from '../../src/backchannel/verifyLogoutToken.js';
import { createLogoutTokenKeys, TEST_CLIENT_ID as CLIENT_ID, TEST_ISSUER as ISSUER, type LogoutTokenKeys } from '../support/logoutTokenKeys.js';

const CLIENT_SECRET = 'the-client-secret-that-an-attacker-might-know-0123';

type Key = LogoutTokenKeys['rsa'];

describe('verifyLogoutToken: Back-Channel Logout 1.0 rules', () => {
  let rsa: Key;
  let es: Key;
  let stranger: Key;
  let jwks: { keys: JWK[] };
  let policy: LogoutTokenPolicy;

  beforeAll(async () => {
    ({ rsa, es, stranger, jwks, policy } = await createLogoutTokenKeys());
  });

  const now = () => Math.floor(Date.now() / 1000);
  /** Keycloak 26's shape (DefaultTokenManager.initLogoutToken). */
  const keycloakClaims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now(),
    exp: now() + 120,
    jti: crypto.randomUUID(),
    sub: 'user-123',
    sid: 'kc-session-1',
    typ: 'Logout',
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {}, revoke_offline_access: true },
    ...overrides,
  });
  const sign = (payload: JWTPayload, header: Record<string, unknown> = { alg: 'RS256', kid: 'rsa-1', typ: 'logout+jwt' }, key: Key | Uint8Array = rsa) =>
    new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
  const signRS256 = (header: object, payload: object, key: KeyObject) => {
    const input = [header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
    return `${input}.${nodeSign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  const without = (claim: string) => {
    const claims = keycloakClaims();
    delete claims[claim];
    return claims;
  };
  const expectRejected = async (token: string, reason: RegExp, options: Partial<LogoutTokenPolicy> = {}) => {
    const error = await verifyLogoutToken(token, { ...policy, ...options }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidLogoutToken);
    expect((error as Error).message).toMatch(reason);
  };

  describe('accepted shapes', () => {
    it('when a token verifies, expired or not, then its iat tells the provider\'s clock; a JWT of the provider that is not a logout token for this client does not', async () => {
      const told: number[] = [];
      const observed = { ...policy, onIssuedAt: (iat: number) => void told.push(iat) };
      const old = now() - 3600;
      await verifyLogoutToken(await sign(keycloakClaims({ iat: now() - 5 })), observed);
      await verifyLogoutToken(await sign(keycloakClaims({ iat: old, exp: old + 120 })), observed).catch(() => undefined);
      expect(told).toEqual([now() - 5, old].map((t) => expect.closeTo(t, -1)));
      // An hours-old access token of this realm (no logout event), one for another client: silent.
      await verifyLogoutToken(await sign(keycloakClaims({ iat: old, exp: old + 300, events: undefined, typ: 'Bearer' }), { alg: 'RS256', kid: 'rsa-1', typ: 'JWT' }), observed).catch(() => undefined);
      await verifyLogoutToken(await sign(keycloakClaims({ iat: old, aud: 'another-client' })), observed).catch(() => undefined);
      expect(told).toHaveLength(2);
    });

    it('when Keycloak 25+ sends typ logout+jwt with payload typ "Logout" and revoke_offline_access, then it verifies', async () => {
      const claims = await verifyLogoutToken(await sign(keycloakClaims()), policy);
      expect(claims).toMatchObject({ iss: ISSUER, sub: 'user-123', providerSid: 'kc-session-1' });
      expect(claims.exp).toBeGreaterThan(now());
    });

    it('when Keycloak 24 or older sends header typ JWT, then it verifies', async () => {
      const claims = await verifyLogoutToken(await sign(keycloakClaims(), { alg: 'RS256', kid: 'rsa-1', typ: 'JWT' }), policy);
      expect(claims.providerSid).toBe('kc-session-1');
    });

    it('when the conformance suite sends no typ, aud as an array and an unknown claim, then it verifies', async () => {
      const token = await sign(
        { ...keycloakClaims({ aud: ['other-client', CLIENT_ID], typ: undefined }), extra_claim: 'ignored' },
        { alg: 'RS256', kid: 'rsa-1' },
      );
      expect((await verifyLogoutToken(token, policy)).sub).toBe('user-123');
    });

    it('when only sub is present, or only sid, then it verifies and reports which', async () => {
      expect((await verifyLogoutToken(await sign(without('sid')), policy)).providerSid).toBeUndefined();
      const sidOnly = await verifyLogoutToken(await sign(without('sub')), policy);
      expect(sidOnly).toMatchObject({ providerSid: 'kc-session-1', sub: undefined });
    });

    it('when typ is written as application/logout+jwt, then it verifies (RFC 7515 media type form)', async () => {
      await expect(verifyLogoutToken(await sign(keycloakClaims(), { alg: 'RS256', kid: 'rsa-1', typ: 'application/logout+jwt' }), policy)).resolves.toBeDefined();
    });
  });

  describe('refused tokens', () => {
    it('when a segment is spelled other than its one base64url form (a dangling character, non-zero trailing bits), then it is refused: one token, one string', async () => {
      const token = await sign(keycloakClaims());
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // A 2048-bit signature is 256 bytes: its last character carries 2 bits and 4 unused ones.
      const trailingBitSet = (segment: string) => segment.slice(0, -1) + alphabet[alphabet.indexOf(segment.at(-1)!) ^ 1];
      expect(Buffer.from(trailingBitSet(signature), 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
      await expectRejected(`${header}.${payload}.${signature}A`, /signature does not verify/);
      await expectRejected(`${header}.${payload}.${trailingBitSet(signature)}`, /signature does not verify/);
      await expectRejected(`${header}.${payload}A.${signature}`, /not a JWS|payload|JSON/);
      // The token as signed still verifies.
      await expect(verifyLogoutToken(token, policy)).resolves.toMatchObject({ sub: 'user-123' });
    });

    it('when alg is none, then it is refused', async () => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      await expectRejected(`${encode({ alg: 'none', typ: 'logout+jwt' })}.${encode(keycloakClaims())}.`, /alg "none"/);
    });

    it('when it is HS256-signed with the client secret, then it is refused', async () => {
      const token = await sign(keycloakClaims(), { alg: 'HS256', typ: 'logout+jwt' }, new TextEncoder().encode(CLIENT_SECRET));
      await expectRejected(token, /symmetric alg HS256/);
    });

    it('when it is signed with a published key of another alg (ES256 where RS256 is expected), then it is refused', async () => {
      await expectRejected(await sign(keycloakClaims(), { alg: 'ES256', kid: 'es-1', typ: 'logout+jwt' }, es), /alg ES256 is not the expected RS256/);
    });

    it('when the signature does not verify, then it is refused', async () => {
      const token = await sign(keycloakClaims());
      const [header, payload] = token.split('.');
      const forged = await sign({ ...keycloakClaims(), sub: 'someone-else' });
      await expectRejected(`${header}.${payload}.${forged.split('.')[2]}`, /signature/);
      await expectRejected(await sign(keycloakClaims(), { alg: 'RS256', kid: 'rsa-1', typ: 'logout+jwt' }, stranger), /signature/);
    });

    it.each([
      ['iss is another issuer', { iss: 'https://evil.example/realms/board' }, /iss/],
      ['aud is another client', { aud: 'other-client' }, /aud/],
      ['aud is an array without us', { aud: ['a', 'b'] }, /aud/],
      ['exp has passed', { exp: now() - 3600, iat: now() - 3720 }, /expired/],
      ['iat is in the future', { iat: now() + 600, exp: now() + 720 }, /iat is in the future/],
      ['events lacks the back-channel member', { events: { 'http://schemas.openid.net/event/other': {} } }, /events must hold/],
      ['the event value is not an object', { events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }, /events must hold/],
      ['events is an array', { events: [BACKCHANNEL_LOGOUT_EVENT] }, /events must be a JSON object/],
      ['nonce is present', { nonce: 'n-0S6_WzA2Mj' }, /nonce/],
      ['sid is not a string', { sid: 42 }, /sid must be/],
      ['nbf is in the future', { nbf: now() + 600 }, /nbf/],
      ['nbf is not a number', { nbf: 'now' }, /nbf/],
      ['exp is not a number', { exp: String(now() + 120) }, /exp/],
      ['iat is not a number', { iat: String(now()) }, /iat/],
    ])('when %s, then it is refused', async (_case, overrides, reason) => {
      await expectRejected(await sign(keycloakClaims(overrides as JWTPayload)), reason);
    });

    it.each([['iss'], ['aud'], ['exp'], ['iat'], ['jti'], ['events']])('when %s is missing, then it is refused', async (claim) => {
      await expectRejected(await sign(without(claim)), new RegExp(claim === 'events' ? 'events' : `"${claim}"|${claim}`));
    });

    it('when neither sid nor sub is present, then it is refused', async () => {
      const claims = keycloakClaims();
      delete claims.sid;
      delete claims.sub;
      await expectRejected(await sign(claims), /neither sid nor sub/);
    });

    it.each([['at+jwt'], ['id_token+jwt'], ['secevent+jwt'], [['logout+jwt']], [{ toString: 'logout+jwt' }]])('when header typ is %j, then it is refused', async (typ) => {
      await expectRejected(await sign(keycloakClaims(), { alg: 'RS256', kid: 'rsa-1', typ }), /header typ/);
    });

    it('when the header names an extension that must be understood (crit), then it is refused', async () => {
      // jose will not sign it: signed here with node:crypto.
      const header = { alg: 'RS256', kid: 'rsa-1', typ: 'logout+jwt', crit: ['exp'], exp: now() + 60 };
      await expectRejected(signRS256(header, keycloakClaims(), KeyObject.from(rsa as webcrypto.CryptoKey)), /crit/);
    });

    it('when the header or payload is not a JSON object, then it is refused', async () => {
      const token = await sign(keycloakClaims());
      const [header, payload, signature] = token.split('.');
      const encode = (value: string) => Buffer.from(value).toString('base64url');
      await expectRejected(`${header}.${encode('[1,2]')}.${signature}`, /not a JWS/);
      await expectRejected(`${encode('"RS256"')}.${payload}.${signature}`, /not a JWS/);
      await expectRejected(`${header}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${signature}`, /not a JWS/);
    });

    it('when the issuer publishes an RSA key shorter than 2048 bits, then its tokens are refused', async () => {
      // jose will not make such a key: made and used here with node:crypto.
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const keys = createLocalJWKSet({ keys: [{ ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' }] });
      await expectRejected(signRS256({ alg: 'RS256', kid: 'weak', typ: 'logout+jwt' }, keycloakClaims(), weak.privateKey), /2048/, { keys });
    });

    it('when the key set hands over a key of another type than the alg needs, then the token is refused', async () => {
      const esPublic = (await createLocalJWKSet(jwks)({ alg: 'ES256', kid: 'es-1' }, { payload: '', signature: '' })) as webcrypto.CryptoKey;
      await expectRejected(await sign(keycloakClaims()), /does not fit alg RS256/, { keys: async () => esPublic });
      await expectRejected(await sign(keycloakClaims()), /not a key/, { keys: async () => new TextEncoder().encode(CLIENT_SECRET) });
    });

    it('when the value is not a JWS at all, then it is refused', async () => {
      await expectRejected('not-a-token', /not a JWS/);
    });
  });

  // The signature is checked with node:crypto (src/backchannel/compactJws.ts): each alg the
  // configuration accepts (OIDC_ID_TOKEN_ALG) verifies its own tokens and no forged one.
  describe.each([['RS384'], ['RS512'], ['PS256'], ['PS384'], ['PS512'], ['ES256'], ['ES384'], ['ES512'], ['EdDSA'], ['Ed25519']])('a provider signing with %s', (alg) => {
    let pair: Awaited<ReturnType<typeof generateKeyPair>>;
    let algPolicy: LogoutTokenPolicy;
    beforeAll(async () => {
      pair = await generateKeyPair(alg, { extractable: true });
      algPolicy = { ...policy, algorithm: alg, keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k', alg }] }) };
    });
    const signWith = (key: Key, claims = keycloakClaims()) => sign(claims, { alg, kid: 'k', typ: 'logout+jwt' }, key);

    it('when a token is signed with its key, then it verifies', async () => {
      await expect(verifyLogoutToken(await signWith(pair.privateKey), algPolicy)).resolves.toMatchObject({ sub: 'user-123' });
    });

    it('when the signature is of another token or another key, then it is refused', async () => {
      const [header, payload] = (await signWith(pair.privateKey)).split('.');
      const other = (await signWith(pair.privateKey, keycloakClaims({ sub: 'someone-else' }))).split('.')[2];
      await expectRejected(`${header}.${payload}.${other}`, /signature/, algPolicy);
      await expectRejected(`${header}.${payload}.${other!.slice(0, -4)}`, /signature/, algPolicy);
      const strangerKey = (await generateKeyPair(alg)).privateKey;
      await expectRejected(await signWith(strangerKey), /signature/, algPolicy);
    });
  });

  describe('the issuer JWKS over HTTP', () => {
    let server: Server;
    let fetches = 0;
    let jwksUrl: URL;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        fetches++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(jwks));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('when a kid is unknown, then the JWKS is fetched again once, the token is refused, and more unknown kids fetch nothing', async () => {
      const cooldownMs = 2000;
      const keys = createRemoteJWKSet(jwksUrl, { cooldownDuration: cooldownMs });
      await verifyLogoutToken(await sign(keycloakClaims()), { ...policy, keys });
      expect(fetches).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, cooldownMs + 100));
      const unknownKid = await sign(keycloakClaims(), { alg: 'RS256', kid: 'rotated-away', typ: 'logout+jwt' }, stranger);
      await expectRejected(unknownKid, /no key of the issuer matches/, { keys });
      expect(fetches).toBe(2);
      // Inside the cooldown that refetch started, a flood of unknown kids causes no request to the provider.
      for (let i = 0; i < 5; i++) await expectRejected(unknownKid, /no key of the issuer matches/, { keys });
      expect(fetches).toBe(2);
    });

    it('when the JWKS endpoint is down, then the failure is SigningKeysUnavailable, not an invalid token', async () => {
      const keys = createRemoteJWKSet(new URL('http://127.0.0.1:9/jwks'), { timeoutDuration: 2000 });
      const error = await verifyLogoutToken(await sign(keycloakClaims()), { ...policy, keys }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SigningKeysUnavailable);
    });
  });
});
