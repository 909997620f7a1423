import type { Kv } from '../storage/kv.js';
import type { TokenSet, TokenTimes } from './authState.js';

/**
 * A session's tokens (access, refresh and ID token: ~4 KB from Keycloak), under a key of their own
 * beside the session record, `<prefix>tok:<sid>`. Every request parses and twice hashes the record
 * (express-session's change detection), and only token refresh, RP-initiated logout and the
 * liveness check need the tokens, so the record keeps just their times (README "Performance").
 * The key follows the record: written before it, renewed with it, deleted with it (SessionStore).
 */
export interface SessionTokens {
  get(sid: string): Promise<TokenSet | null>;
  put(sid: string, tokens: TokenSet, ttlMs: number): Promise<void>;
  /** Sets the TTL of tokens that exist (never creates the key). */
  renew(sid: string, ttlMs: number): Promise<void>;
  remove(sid: string): Promise<void>;
}

export function createSessionTokens(kv: Kv, prefix: string): SessionTokens {
  const key = (sid: string) => `${prefix}tok:${sid}`;
  return {
    async get(sid) {
      const raw = await kv.get(key(sid));
      return raw ? (JSON.parse(raw) as TokenSet) : null;
    },
    async put(sid, tokens, ttlMs) {
      const { accessToken, refreshToken, idToken, expiresAt, issuedAt } = tokens;
      await kv.set(key(sid), JSON.stringify({ accessToken, refreshToken, idToken, expiresAt, issuedAt }), ttlMs);
    },
    async renew(sid, ttlMs) {
      await kv.expire(key(sid), ttlMs);
    },
    remove: (sid) => kv.del(key(sid)),
  };
}

/** True for a full token set; false for the times a record keeps. */
export function isTokenSet(tokens: TokenTimes | TokenSet): tokens is TokenSet {
  return typeof (tokens as Partial<TokenSet>).accessToken === 'string';
}
