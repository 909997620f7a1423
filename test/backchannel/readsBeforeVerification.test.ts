import { SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBackchannelLogout, type BackchannelLogout } from '../../src/backchannel/backchannelLogout.js';
import { createReplayCache } from '../../src/backchannel/replayCache.js';
import { BACKCHANNEL_LOGOUT_EVENT, InvalidLogoutToken } from '../../src/backchannel/verifyLogoutToken.js';
import { HttpError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { OidcClient } from '../../src/oidc/oidcClient.js';
import { createProviderSessionEnds } from '../../src/sessions/providerSessionEnds.js';
import { createSessionIndex } from '../../src/sessions/sessionIndex.js';
import type { Kv } from '../../src/storage/kv.js';
import { createMemoryKv } from '../../src/storage/memoryKv.js';
import { createLogoutTokenKeys, TEST_CLIENT_ID, TEST_ISSUER, type LogoutTokenKeys } from '../support/logoutTokenKeys.js';

/**
 * The logout's Redis reads go out before the token is verified (in the round trip of the rate
 * limit's read), named by the token's claims as sent: what that may and may not do. On an
 * in-process store whose every call is noted.
 */
describe('back-channel logout: reads before verification', () => {
  let keys: LogoutTokenKeys;
  let calls: string[];
  /** Each call with its key: `set p:sid-ended:{…}` and the like. */
  let keyed: string[];
  let verifications: number;
  let revoked: string[][];
  /** How many storage calls had been made when each revocation was asked for. */
  let revokedAfterCalls: number[];
  let logout: BackchannelLogout;
  let index: ReturnType<typeof createSessionIndex>;

  beforeEach(async () => {
    keys ??= await createLogoutTokenKeys();
    calls = [];
    keyed = [];
    verifications = 0;
    revoked = [];
    revokedAfterCalls = [];
    const memory = createMemoryKv();
    const kv = new Proxy(memory, {
      get: (target, name: keyof Kv) =>
        typeof target[name] === 'function' ? (...args: unknown[]) => (calls.push(String(name)), keyed.push(`${String(name)} ${String(args[0])}`), (target[name] as (...a: unknown[]) => unknown)(...args)) : target[name],
    });
    index = createSessionIndex(kv, 'p:');
    await index.add({ sessionId: 'laptop', issuer: TEST_ISSUER, sub: 'alice', providerSid: 'kc-1', expiresAt: Date.now() + 60_000 });
    calls = [];
    keyed = [];
    const signingKeys: JWTVerifyGetKey = (header, token) => {
      verifications++;
      return (keys.policy.keys as JWTVerifyGetKey)(header, token);
    };
    const oidc = { isReady: () => true, issuer: () => TEST_ISSUER, signingKeys: () => signingKeys, observeIssuedAt: () => undefined } as unknown as OidcClient;
    logout = createBackchannelLogout({
      oidc,
      clientId: TEST_CLIENT_ID,
      algorithm: 'RS256',
      clockToleranceSeconds: 30,
      replay: createReplayCache(kv, 'p:'),
      index,
      ends: createProviderSessionEnds(kv, 'p:', 3_600_000),
      revoke: async (sessionIds) => (revoked.push([...sessionIds]), revokedAfterCalls.push(keyed.length), sessionIds.length),
      recheck: { schedule: () => undefined, stop: () => undefined },
      log: createLogger({ level: 'silent' }),
    });
  });

  const sign = (claims: JWTPayload, key = keys.rsa) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: TEST_ISSUER, aud: TEST_CLIENT_ID, iat: now, exp: now + 120, jti: crypto.randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1', typ: 'logout+jwt' })
      .sign(key);
  };
  const writes = () => calls.filter((name) => !['get', 'zrangeByScore'].includes(name));

  it('when the rate limit has not answered yet, then the reads are out but the signature waits; once it lets the token through, the session ends', async () => {
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => (admit = resolve));
    const done = logout(await sign({ sub: 'alice' }), admitted);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.sort()).toEqual(['get', 'zrangeByScore']);
    expect(verifications).toBe(0);
    admit();
    expect(await done).toEqual({ revoked: 1 });
    expect(verifications).toBe(1);
    expect(revoked).toEqual([['laptop']]);
    // Nothing read twice: the verified token names the keys already read; then the jti is recorded.
    expect(calls.sort()).toEqual(['get', 'set', 'zrangeByScore']);
  });

  it('when a token names a sid, then its jti and indexes are read before verification; once verified, the end is written before the index is read again, and what the first read found is revoked in that tick', async () => {
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => (admit = resolve));
    const done = logout(await sign({ sid: 'kc-1', sub: 'alice' }), admitted);
    await new Promise((resolve) => setImmediate(resolve));
    expect(keyed).toEqual([
      expect.stringMatching(/^get p:jti:/),
      expect.stringMatching(/^zrangeByScore p:idx:user:/),
      expect.stringMatching(/^zrangeByScore p:idx:psid:/),
    ]);
    // Nothing is revoked before the signature has verified.
    expect(revoked).toEqual([]);
    admit();
    expect(await done).toEqual({ revoked: 1 });
    // The session found before is revoked at once, right behind the end's write and the read after
    // it (so its tombstone and event go out with them); that read finds no other.
    expect(revoked).toEqual([['laptop']]);
    expect(revokedAfterCalls).toEqual([5]);
    expect(keyed.slice(3, 5)).toEqual([
      expect.stringMatching(/^set p:sid-ended:\{p:idx:psid:[\w-]+\}$/),
      expect.stringMatching(/^zrangeByScore p:idx:psid:/),
    ]);
    expect(keyed.slice(5)).toEqual([expect.stringMatching(/^set p:jti:/)]);
  });

  it('when a session of the provider session is indexed between the read before verification and the end, then the read after the end finds it and it is revoked too', async () => {
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => (admit = resolve));
    const done = logout(await sign({ sid: 'kc-1', sub: 'alice' }), admitted);
    await new Promise((resolve) => setImmediate(resolve));
    // A sign-in into the same provider session indexes its new session now.
    await index.add({ sessionId: 'phone', issuer: TEST_ISSUER, sub: 'alice', providerSid: 'kc-1', expiresAt: Date.now() + 60_000 });
    admit();
    expect(await done).toEqual({ revoked: 2 });
    expect(revoked).toEqual([['laptop'], ['phone']]);
  });

  it('when the rate limit refuses, then the signature is never verified and nothing is written or revoked', async () => {
    const refusal = new HttpError(429, 'rate_limited', 'Too many requests');
    await expect(logout(await sign({ sid: 'kc-1', sub: 'alice' }), Promise.reject(refusal))).rejects.toBe(refusal);
    expect(verifications).toBe(0);
    expect(revoked).toEqual([]);
    expect(writes()).toEqual([]);
  });

  it('when a token naming a live session is signed by a stranger, then what was read for it changes nothing, no end is recorded for its sid, and its jti stays free', async () => {
    const jti = crypto.randomUUID();
    await expect(logout(await sign({ sid: 'kc-1', sub: 'alice', jti }, keys.stranger))).rejects.toBeInstanceOf(InvalidLogoutToken);
    await expect(logout(await sign({ sub: 'alice', jti }, keys.stranger))).rejects.toBeInstanceOf(InvalidLogoutToken);
    expect(revoked).toEqual([]);
    expect(writes()).toEqual([]);
    // The genuine token with that jti is no replay.
    expect(await logout(await sign({ sid: 'kc-1', sub: 'alice', jti }))).toEqual({ revoked: 1 });
  });

  it('when a token names another issuer or an id no token may carry, then nothing is read for it before verification, also while the rate limit refuses its sender', async () => {
    const refusal = new HttpError(429, 'rate_limited', 'Too many requests');
    for (const claims of [{ iss: 'https://elsewhere.example', sub: 'alice' }, { sub: 'a'.repeat(1025) }, { sid: '' }, { sub: 'alice', jti: 'j'.repeat(1025) }]) {
      await expect(logout(await sign(claims), Promise.reject(refusal))).rejects.toBe(refusal);
    }
    expect(calls).toEqual([]);
    // A token of this issuer within bounds is read early (and, verified, revokes its session).
    expect(await logout(await sign({ sub: 'alice' }))).toEqual({ revoked: 1 });
    expect(calls.sort()).toEqual(['get', 'set', 'zrangeByScore']);
  });

  it('when the token cannot be read before verification (not a JWS), then nothing is read and it is refused', async () => {
    await expect(logout('not-a-jwt')).rejects.toBeInstanceOf(InvalidLogoutToken);
    expect(calls).toEqual([]);
  });
});
