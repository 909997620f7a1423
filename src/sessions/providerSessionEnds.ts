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
 * issued at or before it (both by the provider's clock, epoch seconds), and, if the token named
 * `sub`, when it is that user's (as the back-channel revokes only those): a later sign-in that the
 * provider puts in the same `sid` (e.g. Keycloak ending only this client's part of an SSO session)
 * is not touched, except one whose tokens were issued in the very second of the logout.
 */
export interface ProviderSessionEnds {
  /**
   * Records that (issuer, providerSid) ended at `endedAt` (epoch s), for the sessions of `sub` only
   * when the logout named one. Issued first (synchronously), so a read sent right after it on the
   * same connection runs after it. Rejects with a 503 HttpError when Redis fails.
   */
  record(issuer: string, providerSid: string, endedAt: number, sub?: string): Promise<void>;
  /**
   * True when a recorded end of (issuer, providerSid) is at or after `issuedAt` (epoch s) and names
   * no other user than `sub`. Rejects with a 503 HttpError when Redis fails.
   */
  endedSince(issuer: string, providerSid: string, sub: string, issuedAt: number): Promise<boolean>;
}

/** What the key holds: the end (epoch s) and the user the logout named, if it named one. */
interface RecordedEnd {
  at: number;
  sub?: string;
}

/** `ttlMs`: how long an end is kept; at least the sessions' absolute lifetime. */
export function createProviderSessionEnds(kv: Kv, prefix: string, ttlMs: number): ProviderSessionEnds {
  const key = (issuer: string, providerSid: string) => redisKeys(prefix).providerSessionEnded(keyDigest(issuer, providerSid));
  return {
    async record(issuer, providerSid, endedAt, sub) {
      // A plain SET (no script: a script's first EVALSHA may be answered NOSCRIPT and sent again,
      // after the index read behind it). Two logout tokens for one sid differ in `iat` by seconds.
      const end: RecordedEnd = sub === undefined ? { at: endedAt } : { at: endedAt, sub };
      await kv.set(key(issuer, providerSid), JSON.stringify(end), ttlMs);
    },
    async endedSince(issuer, providerSid, sub, issuedAt) {
      const raw = await kv.get(key(issuer, providerSid));
      if (raw === null) return false;
      const end = JSON.parse(raw) as RecordedEnd;
      return issuedAt <= end.at && (end.sub === undefined || end.sub === sub);
    },
  };
}
