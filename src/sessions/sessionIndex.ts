import { keyDigest, redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';

export interface IndexEntry {
  sessionId: string;
  issuer: string;
  sub: string;
  providerSid: string | undefined;
  /** When the session dies at the latest (absolute lifetime), epoch ms. */
  expiresAt: number;
}

/**
 * Finds the app's session ids for a provider session (issuer, `sid`), for a user (issuer, `sub`),
 * or all of them. Each lookup is a sorted set scored by expiry, so entries age out with their
 * sessions without a sweeper. Writers add entries before the session is stored and remove them
 * after it is deleted: a crash in between leaves a stale id, which revocation tolerates, and never
 * a live session the index cannot find.
 */
export interface SessionIndex {
  add(entry: IndexEntry): Promise<void>;
  remove(entry: Omit<IndexEntry, 'expiresAt'>): Promise<void>;
  byProviderSession(issuer: string, providerSid: string): Promise<string[]>;
  byUser(issuer: string, sub: string): Promise<string[]>;
  all(limit: number): Promise<string[]>;
}

const MAX_PER_LOOKUP = 10_000;

export function createSessionIndex(kv: Kv, prefix: string, now: () => number = Date.now): SessionIndex {
  const keys = redisKeys(prefix);
  const userKey = (issuer: string, sub: string) => keys.userIndex(keyDigest(issuer, sub));
  const providerKey = (issuer: string, providerSid: string) => keys.providerSessionIndex(keyDigest(issuer, providerSid));
  const allKey = keys.allSessionsIndex;
  const keysOf = (entry: Omit<IndexEntry, 'expiresAt'>) => [
    userKey(entry.issuer, entry.sub),
    allKey,
    ...(entry.providerSid ? [providerKey(entry.issuer, entry.providerSid)] : []),
  ];
  const live = (key: string, limit = MAX_PER_LOOKUP) => kv.zrangeByScore(key, now(), Infinity, limit);

  return {
    async add(entry) {
      const options = { pruneBelow: now(), keyExpiresAt: entry.expiresAt };
      await Promise.all(keysOf(entry).map((key) => kv.zadd(key, entry.sessionId, entry.expiresAt, options)));
    },
    async remove(entry) {
      await Promise.all(keysOf(entry).map((key) => kv.zrem(key, entry.sessionId)));
    },
    byProviderSession: (issuer, providerSid) => live(providerKey(issuer, providerSid)),
    byUser: (issuer, sub) => live(userKey(issuer, sub)),
    all: (limit) => live(allKey, limit),
  };
}
