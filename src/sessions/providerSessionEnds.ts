import { keyDigest, redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';

/**
 * Which provider sessions (issuer, `sid`) a verified logout token said ended, and when, shared by
 * every replica. It closes the race where a logout token lands while a callback holds tokens of
 * that provider session but has not indexed its new session yet: the back-channel writes the end
 * before it reads the index, every write of a session record reads it after the write, so one of
 * the two always sees the other (SessionStore.write revokes the session as `backchannel_logout`).
 *
 * The end is the logout token's `iat` and a session counts as ended only when its tokens were
 * issued at or before it (both by the provider's clock, epoch seconds): a later sign-in that the
 * provider puts in the same `sid` (e.g. Keycloak ending only this client's part of an SSO session)
 * is not touched, except one whose tokens were issued in the very second of the logout.
 */
export interface ProviderSessionEnds {
  /**
   * Records that (issuer, providerSid) ended at `endedAt` (epoch s). Issued first (synchronously),
   * so a read sent right after it on the same connection runs after it. Rejects with a 503
   * HttpError when Redis fails.
   */
  record(issuer: string, providerSid: string, endedAt: number): Promise<void>;
  /** True when a recorded end is at or after `issuedAt` (epoch s). Rejects with a 503 HttpError when Redis fails. */
  endedSince(issuer: string, providerSid: string, issuedAt: number): Promise<boolean>;
}

/** `ttlMs`: how long an end is kept; at least the sessions' absolute lifetime. */
export function createProviderSessionEnds(kv: Kv, prefix: string, ttlMs: number): ProviderSessionEnds {
  const key = (issuer: string, providerSid: string) => redisKeys(prefix).providerSessionEnded(keyDigest(issuer, providerSid));
  return {
    async record(issuer, providerSid, endedAt) {
      // A plain SET (no script: a script's first EVALSHA may be answered NOSCRIPT and sent again,
      // after the index read behind it). Two logout tokens for one sid differ in `iat` by seconds.
      await kv.set(key(issuer, providerSid), String(endedAt), ttlMs);
    },
    async endedSince(issuer, providerSid, issuedAt) {
      const endedAt = await kv.get(key(issuer, providerSid));
      return endedAt !== null && issuedAt <= Number(endedAt);
    },
  };
}
