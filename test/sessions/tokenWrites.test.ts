import type { SessionData } from 'express-session';
import { describe, expect, it } from 'vitest';
import { createSessionStore } from '../../src/sessions/sessionStore.js';
import type { TokenSet } from '../../src/sessions/tokenSet.js';
import { createTombstones } from '../../src/sessions/tombstones.js';
import type { Kv } from '../../src/storage/kv.js';
import { createMemoryKv } from '../../src/storage/memoryKv.js';

/**
 * The record and its tokens are two keys: a write that fails half-way must never leave a record
 * whose token times (expiry, `iat`) are newer than the tokens stored beside it — the next refresh
 * would send an old refresh token and, at a provider that rotates them, sign the user out.
 */
describe('a session write whose token write fails', () => {
  const tokensAt = (second: number): TokenSet => ({
    accessToken: `access-${second}`,
    refreshToken: `refresh-${second}`,
    idToken: `id-${second}`,
    expiresAt: second * 1000 + 300_000,
    issuedAt: second,
  });
  const sessionWith = (tokens: TokenSet) =>
    ({
      cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) },
      auth: { issuer: 'https://op.example', sub: 'alice', providerSid: 'p1', user: { id: 'alice', username: 'alice', name: 'Alice', email: null, roles: [] }, tokens, loginTime: new Date().toISOString(), absoluteExpiresAt: Date.now() + 3_600_000 },
    }) as unknown as SessionData;

  it('when the tokens cannot be written (a refresh), then it rejects with 503 and the stored record still carries the old tokens’ times', async () => {
    const memory = createMemoryKv();
    let tokenWritesFail = false;
    const kv: Kv = {
      ...memory,
      async set(key, value, ttlMs, onlyIfAbsent) {
        if (tokenWritesFail && key.includes('tok:')) throw new Error('Command timed out');
        return memory.set(key, value, ttlMs, onlyIfAbsent);
      },
    };
    const store = createSessionStore({ redis: undefined, prefix: 't:', idleSeconds: 600, tombstones: createTombstones(kv, 't:'), kv });
    expect(await store.write('s1', sessionWith(tokensAt(1000)))).toBe('written');

    tokenWritesFail = true;
    await expect(store.write('s1', sessionWith(tokensAt(2000)))).rejects.toMatchObject({ status: 503 });

    const record = (await store.read('s1'))!;
    expect(record.auth!.tokens).toEqual({ expiresAt: tokensAt(1000).expiresAt, issuedAt: 1000 });
    expect(await store.readTokens('s1', record.auth!)).toEqual(tokensAt(1000));
  });
});
