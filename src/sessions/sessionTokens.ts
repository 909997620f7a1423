import type { Kv } from '../storage/kv.js';
import { redisKeys } from '../storage/keys.js';
import type { TokenSet } from './tokenSet.js';

/**
 * A session's tokens (access, refresh and ID token: ~4 KB from Keycloak), under a key of their own
 * beside the session record, `<prefix>tok:<sessionId>`. Every request parses and twice hashes the record
 * (express-session's change detection), and only token refresh, RP-initiated logout and the
 * liveness check need the tokens, so the record keeps just their times (README "Performance").
 * Written just before the record, kept until the session's absolute end (so they never expire before a record that can still be used, whatever becomes of its idle renewals), deleted with it (SessionStore).
 */
export interface SessionTokens {
  get(sessionId: string): Promise<TokenSet | null>;
  put(sessionId: string, tokens: TokenSet, ttlMs: number): Promise<void>;
  remove(sessionId: string): Promise<void>;
}

export function createSessionTokens(kv: Kv, prefix: string): SessionTokens {
  const key = redisKeys(prefix).sessionTokens;
  return {
    async get(sessionId) {
      const raw = await kv.get(key(sessionId));
      return raw ? (JSON.parse(raw) as TokenSet) : null;
    },
    async put(sessionId, tokens, ttlMs) {
      const { accessToken, refreshToken, idToken, expiresAt, issuedAt } = tokens;
      await kv.set(key(sessionId), JSON.stringify({ accessToken, refreshToken, idToken, expiresAt, issuedAt }), ttlMs);
    },
    remove: (sessionId) => kv.del(key(sessionId)),
  };
}
