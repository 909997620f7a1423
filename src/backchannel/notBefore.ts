import { keyDigest, redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';

/**
 * The issuer-wide not-before that Keycloak's admin actions announce (realm "Sign out all active
 * sessions", "Revocation → Push"): a session whose tokens were issued before it is dead. Kept in
 * Redis, shared by the replicas, so a session that escaped the sweep (a login completing at that
 * moment, a record restored from a backup) is refused when it is next loaded.
 *
 * Only ever raised: a lower value pushed later ("Clear") cannot bring back sessions the higher one
 * already ended. Stored as a sorted set whose members below the newest value are pruned in the
 * same command, so concurrent raises need no read-modify-write; kept as long as a session may live.
 */
export interface IssuerNotBefore {
  raise(issuer: string, notBeforeSeconds: number): Promise<void>;
  /** Epoch seconds; 0 when none was announced. */
  get(issuer: string): Promise<number>;
}

export function createIssuerNotBefore(kv: Kv, prefix: string, keepMs: number, now: () => number = Date.now): IssuerNotBefore {
  // Keyed on the issuer's normalised URL: discovery matches issuers as URLs, so the metadata's and the
  // configured spelling (host case, default port) may differ as text and must meet at one key.
  // Read with every session load, always for the one configured issuer: its key is made once, not
  // parsed and digested per request (with the digests' one-shot hash, 0.93–0.96× the CPU of
  // GET /api/user: README "Performance", sixth pass).
  const keys = redisKeys(prefix);
  let last: { issuer: string; key: string } | undefined;
  const key = (issuer: string) => {
    if (last?.issuer !== issuer) last = { issuer, key: keys.issuerNotBefore(keyDigest(normalisedUrl(issuer))) };
    return last.key;
  };
  return {
    async raise(issuer, notBeforeSeconds) {
      await kv.zadd(key(issuer), String(notBeforeSeconds), notBeforeSeconds, { pruneBelow: notBeforeSeconds, keyExpiresAt: now() + keepMs });
    },
    async get(issuer) {
      const members = await kv.zrangeByScore(key(issuer), -Infinity, Infinity, 100);
      return members.reduce((max, member) => Math.max(max, Number(member) || 0), 0);
    },
  };
}

function normalisedUrl(issuer: string): string {
  try {
    return new URL(issuer).href;
  } catch {
    return issuer;
  }
}
