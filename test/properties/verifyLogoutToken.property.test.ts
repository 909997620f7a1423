import fc from 'fast-check';
import { base64url, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  InvalidLogoutToken,
  verifyLogoutToken,
  type LogoutTokenPolicy,
} from '../../src/backchannel/verifyLogoutToken.js';
import {
  CLOCK_TOLERANCE_SECONDS as TOLERANCE,
  createLogoutTokenKeys,
  TEST_CLIENT_ID as CLIENT_ID,
  TEST_ISSUER as ISSUER,
  type LogoutTokenKeys,
} from '../support/logoutTokenKeys.js';

const RUNS = { numRuns: 150 };

type Key = LogoutTokenKeys['rsa'];

/** Resolves to the error the promise rejected with, or fails if it fulfilled. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('the token was accepted');
}

describe('verifyLogoutToken under generated tokens (property-based)', () => {
  let rsa: Key;
  let es: Key;
  let stranger: Key;
  let policy: LogoutTokenPolicy;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    ({ rsa, es, stranger, policy } = await createLogoutTokenKeys());
  });

  const id = fc.string({ minLength: 1, maxLength: 64 });
  /** A valid token's claims: Keycloak's shape, varied where the spec allows. */
  const validClaims = fc.record({
    iat: fc.integer({ min: -3600, max: TOLERANCE - 1 }),
    life: fc.integer({ min: TOLERANCE + 5, max: 3600 }),
    jti: id,
    ids: fc.oneof(fc.record({ sub: id, sid: id }), fc.record({ sub: id }), fc.record({ sid: id })),
    aud: fc.constantFrom<string | string[]>(CLIENT_ID, [CLIENT_ID], ['other-client', CLIENT_ID]),
    revokeOffline: fc.boolean(),
    payloadTyp: fc.boolean(),
    extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !RESERVED.has(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  }).map(({ iat, life, jti, ids, aud, revokeOffline, payloadTyp, extra }): JWTPayload => ({
    ...extra,
    iss: ISSUER,
    aud,
    iat: now() + iat,
    exp: now() + life,
    jti,
    ...ids,
    ...(payloadTyp ? { typ: 'Logout' } : {}),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {}, ...(revokeOffline ? { revoke_offline_access: true } : {}) },
  }));
  const validTyp = fc.constantFrom(undefined, 'logout+jwt', 'JWT', 'jwt', 'application/logout+jwt', 'LOGOUT+JWT');

  const sign = (payload: JWTPayload, header: Record<string, unknown> = { alg: 'RS256', kid: 'rsa-1' }, key: Key | Uint8Array = rsa) =>
    new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
  const headerWith = (typ: string | undefined) => ({ alg: 'RS256', kid: 'rsa-1', ...(typ === undefined ? {} : { typ }) });

  it('accepts every valid token and returns its iss, sub, sid (as providerSid), jti, iat and exp', async () => {
    await fc.assert(
      fc.asyncProperty(validClaims, validTyp, async (claims, typ) => {
        const result = await verifyLogoutToken(await sign(claims, headerWith(typ)), policy);
        expect(result).toEqual({ iss: ISSUER, sub: claims.sub, providerSid: claims.sid, jti: claims.jti, iat: claims.iat, exp: claims.exp });
      }),
      RUNS,
    );
  });

  /** Ways to break exactly one rule of the claims; each must be refused. */
  const claimMutation = fc.oneof(
    fc.constantFrom('iss', 'aud', 'iat', 'exp', 'jti', 'events').map((claim) => (c: JWTPayload) => void delete c[claim]),
    fc.string().filter((s) => s !== ISSUER).map((iss) => (c: JWTPayload) => void (c.iss = iss)),
    fc.oneof(fc.string(), fc.array(fc.string())).filter((a) => a !== CLIENT_ID && !(Array.isArray(a) && a.includes(CLIENT_ID)))
      .map((aud) => (c: JWTPayload) => void (c.aud = aud)),
    fc.integer({ min: TOLERANCE + 1, max: 10 ** 9 }).map((ahead) => (c: JWTPayload) => void (c.iat = now() + ahead)),
    fc.integer({ min: TOLERANCE + 1, max: 10 ** 9 }).map((ago) => (c: JWTPayload) => void (c.exp = now() - ago)),
    fc.jsonValue().filter((v) => typeof v !== 'number').map((v) => (c: JWTPayload) => void (c.iat = v as unknown as number)),
    fc.jsonValue().filter((v) => typeof v !== 'number').map((v) => (c: JWTPayload) => void (c.exp = v as unknown as number)),
    fc.jsonValue().filter((v) => typeof v !== 'string' || v === '').map((v) => (c: JWTPayload) => void (c.jti = v as unknown as string)),
    fc.jsonValue().map((v) => (c: JWTPayload) => void (c.nonce = v)),
    fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => (c: JWTPayload) => void (c.events = v)),
    fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
      .map((v) => (c: JWTPayload) => void (c.events = { [BACKCHANNEL_LOGOUT_EVENT]: v })),
    fc.dictionary(fc.string().filter((k) => k !== BACKCHANNEL_LOGOUT_EVENT), fc.jsonValue()).map((events) => (c: JWTPayload) => void (c.events = events)),
    fc.constant((c: JWTPayload) => {
      delete c.sub;
      delete c.sid;
    }),
    fc.tuple(fc.constantFrom('sub', 'sid'), fc.jsonValue().filter((v) => typeof v !== 'string' || v === ''))
      .map(([claim, v]) => (c: JWTPayload) => void ((c as Record<string, unknown>)[claim] = v)),
  );

  it('refuses every token with one claim rule broken, with InvalidLogoutToken only', async () => {
    await fc.assert(
      fc.asyncProperty(validClaims, claimMutation, async (claims, mutate) => {
        mutate(claims);
        expect(await refusal(verifyLogoutToken(await sign(claims), policy))).toBeInstanceOf(InvalidLogoutToken);
      }),
      RUNS,
    );
  });

  it('refuses every token whose header or signature is wrong, with InvalidLogoutToken only', async () => {
    const headerMutation = fc.oneof(
      fc.string().filter((typ) => !['logout+jwt', 'jwt'].includes(typ.toLowerCase().replace(/^application\//, '')))
        .map((typ) => (claims: JWTPayload) => sign(claims, headerWith(typ))),
      fc.constant((claims: JWTPayload) => sign(claims, { alg: 'ES256', kid: 'es-1' }, es)),
      fc.constant((claims: JWTPayload) => sign(claims, { alg: 'RS256', kid: 'rsa-1' }, stranger)),
      fc.string().filter((kid) => kid !== 'rsa-1').map((kid) => (claims: JWTPayload) => sign(claims, { alg: 'RS256', kid }, stranger)),
      fc.uint8Array({ minLength: 32, maxLength: 64 }).map((secret) => (claims: JWTPayload) => sign(claims, { alg: 'HS256', kid: 'rsa-1' }, secret)),
      fc.constantFrom('none', 'None', 'NONE', '').map((alg) => async (claims: JWTPayload) => `${encode({ alg, typ: 'JWT' })}.${encode(claims)}.`),
      fc.jsonValue().filter((alg) => typeof alg !== 'string')
        .map((alg) => async (claims: JWTPayload) => `${encode({ alg, kid: 'rsa-1' })}.${encode(claims)}.${'A'.repeat(342)}`),
      fc.constant(async (claims: JWTPayload) => {
        const [, payload, signature] = (await sign(claims)).split('.');
        return `${encode({ alg: 'RS256', kid: 'rsa-1', crit: ['exp'], exp: 1 })}.${payload}.${signature}`;
      }),
    );
    await fc.assert(
      fc.asyncProperty(validClaims, headerMutation, async (claims, forge) => {
        expect(await refusal(verifyLogoutToken(await forge(claims), policy))).toBeInstanceOf(InvalidLogoutToken);
      }),
      RUNS,
    );
  });

  it('refuses a valid token with any character changed, inserted or removed, with InvalidLogoutToken only', async () => {
    const token = await sign({ iss: ISSUER, aud: CLIENT_ID, iat: now(), exp: now() + 3600, jti: 'j-1', sid: 's-1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom('change', 'insert', 'remove'),
        fc.constantFrom(...'ABCxyz019-_.=+/ %\u0000é'),
        async (at, how, char) => {
          const forged =
            how === 'remove' ? token.slice(0, at) + token.slice(at + 1) : token.slice(0, at) + char + token.slice(how === 'insert' ? at : at + 1);
          // A change confined to a segment's unused trailing bits decodes to the same bytes: not a forgery.
          fc.pre(forged !== token && !sameBytes(forged, token));
          expect(await refusal(verifyLogoutToken(forged, policy))).toBeInstanceOf(InvalidLogoutToken);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses anything that is not a signed token, whatever its header and payload hold, with InvalidLogoutToken only', async () => {
    const segment = fc.oneof(fc.jsonValue().map(encode), fc.string(), fc.base64String().map((s) => s.replace(/=+$/, '')));
    const garbage = fc.oneof(fc.string({ maxLength: 300 }), fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')));
    await fc.assert(
      fc.asyncProperty(garbage, async (token) => {
        expect(await refusal(verifyLogoutToken(token, policy))).toBeInstanceOf(InvalidLogoutToken);
      }),
      { numRuns: 400 },
    );
  });
});

const RESERVED = new Set(['iss', 'aud', 'iat', 'exp', 'nbf', 'jti', 'sub', 'sid', 'typ', 'events', 'nonce']);

function encode(value: unknown): string {
  return base64url.encode(JSON.stringify(value) ?? 'null');
}

function sameBytes(a: string, b: string): boolean {
  const decode = (token: string) => token.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex'));
  const [x, y] = [decode(a), decode(b)];
  return x.length === y.length && x.every((part, i) => part === y[i]) && /^[\w-]*\.[\w-]*\.[\w-]*$/.test(a);
}
