import type { SessionData } from 'express-session';
import { beforeEach, describe, expect, it } from 'vitest';
import { unavailable } from '../../src/errors.js';
import { createProviderSessionEnds, type ProviderSessionEnds } from '../../src/sessions/providerSessionEnds.js';
import { createSessionStore, type SessionStore } from '../../src/sessions/sessionStore.js';
import type { TokenSet } from '../../src/sessions/tokenSet.js';
import { createTombstones } from '../../src/sessions/tombstones.js';
import type { Kv } from '../../src/storage/kv.js';
import { createMemoryKv } from '../../src/storage/memoryKv.js';

const ISSUER = 'https://op.example';

/**
 * Every write of a session record (the callback's save, a token refresh) reads, after the write,
 * whether its provider session ended (a logout token naming its `sid`, which may have looked for
 * sessions before this one was indexed): on the in-process store, whose commands run as the Redis
 * ones do, one after another.
 */
describe('a session write and the end of its provider session', () => {
  let ends: ProviderSessionEnds;
  let ended: string[];
  let store: SessionStore;
  let endReadsFail: boolean;

  beforeEach(() => {
    const memory = createMemoryKv();
    endReadsFail = false;
    const kv: Kv = {
      ...memory,
      async get(key) {
        if (endReadsFail && key.includes('sid-ended:')) throw unavailable('Redis', new Error('Command timed out'));
        return memory.get(key);
      },
    };
    ends = createProviderSessionEnds(kv, 't:', 3_600_000);
    ended = [];
    store = createSessionStore({
      redis: undefined,
      prefix: 't:',
      idleSeconds: 600,
      tombstones: createTombstones(kv, 't:'),
      kv,
      providerSessionEnd: { ends, end: async (sessionId) => ended.push(sessionId) },
    });
  });

  const tokensIssuedAt = (second: number): TokenSet => ({ accessToken: 'a', refreshToken: 'r', idToken: 'i', expiresAt: Date.now() + 300_000, issuedAt: second });
  const sessionOf = (providerSid: string | undefined, tokens: TokenSet) =>
    ({
      cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) },
      auth: { issuer: ISSUER, sub: 'alice', providerSid, user: { id: 'alice', username: 'alice', name: 'Alice', email: null, roles: [] }, tokens, loginTime: new Date().toISOString(), absoluteExpiresAt: Date.now() + 3_600_000 },
    }) as unknown as SessionData;

  it('when the provider session ended at or after the tokens were issued, then the write ends the session and answers revoked', async () => {
    await ends.record(ISSUER, 'p1', 1000);
    expect(await store.write('s1', sessionOf('p1', tokensIssuedAt(999)))).toBe('revoked');
    expect(await store.write('s2', sessionOf('p1', tokensIssuedAt(1000)))).toBe('revoked');
    expect(ended).toEqual(['s1', 's2']);
  });

  it('when the tokens were issued after the end (a later sign-in into the same sid), another provider session ended, or the logout named another user, then the write stands', async () => {
    await ends.record(ISSUER, 'p1', 1000);
    await ends.record(ISSUER, 'p3', 1000, 'bob');
    expect(await store.write('s1', sessionOf('p1', tokensIssuedAt(1001)))).toBe('written');
    expect(await store.write('s2', sessionOf('p2', tokensIssuedAt(999)))).toBe('written');
    expect(await store.write('s3', sessionOf(undefined, tokensIssuedAt(999)))).toBe('written');
    expect(await store.write('s4', sessionOf('p3', tokensIssuedAt(999)))).toBe('written');
    await ends.record(ISSUER, 'p3', 1000, 'alice');
    expect(await store.write('s5', sessionOf('p3', tokensIssuedAt(999)))).toBe('revoked');
    expect(ended).toEqual(['s5']);
  });

  it('when the end cannot be read (Redis down), then the write rejects with 503 and ends nothing', async () => {
    endReadsFail = true;
    await expect(store.write('s1', sessionOf('p1', tokensIssuedAt(999)))).rejects.toMatchObject({ status: 503 });
    expect(ended).toEqual([]);
  });
});
