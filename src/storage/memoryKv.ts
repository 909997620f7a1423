import type { Kv } from './kv.js';

interface Entry {
  value: string | Map<string, number>;
  expiresAt: number;
}

/** In-process twin of `createRedisKv`, for the one-machine demo and the contract tests. */
export function createMemoryKv(now: () => number = Date.now): Kv & { size(): number } {
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const zset = (key: string): Map<string, number> | undefined => {
    const value = live(key)?.value;
    return value instanceof Map ? value : undefined;
  };
  const sortedMembers = (set: Map<string, number>, min: number, max: number): string[] =>
    [...set]
      .filter(([, score]) => score >= min && score <= max)
      .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1))
      .map(([member]) => member);

  // Expired keys would otherwise linger until read; sweep now and then like Redis' active expiry.
  const sweep = setInterval(() => {
    for (const key of entries.keys()) live(key);
  }, 30_000);
  sweep.unref();

  return {
    size: () => entries.size,
    async get(key) {
      const value = live(key)?.value;
      return typeof value === 'string' ? value : null;
    },
    async set(key, value, ttlMs, onlyIfAbsent = false) {
      if (onlyIfAbsent && live(key)) return false;
      entries.set(key, { value, expiresAt: now() + ttlMs });
      return true;
    },
    async del(key) {
      entries.delete(key);
    },
    async delIfValue(key, value) {
      if (live(key)?.value !== value) return false;
      entries.delete(key);
      return true;
    },
    async zadd(key, member, score, options = {}) {
      let entry = live(key);
      if (!entry || !(entry.value instanceof Map)) {
        entry = { value: new Map(), expiresAt: Infinity };
        entries.set(key, entry);
      }
      const set = entry.value as Map<string, number>;
      set.set(member, score);
      if (options.pruneBelow !== undefined) {
        for (const [m, s] of set) if (s < options.pruneBelow) set.delete(m);
      }
      if (options.keyExpiresAt !== undefined) {
        entry.expiresAt = entry.expiresAt === Infinity ? options.keyExpiresAt : Math.max(entry.expiresAt, options.keyExpiresAt);
      }
    },
    async zrem(key, member) {
      const set = zset(key);
      set?.delete(member);
      if (set && set.size === 0) entries.delete(key);
    },
    async zrangeByScore(key, min, max, limit) {
      const set = zset(key);
      return set ? sortedMembers(set, min, max).slice(0, limit) : [];
    },
    async zclaim(key, maxScore, newScore, limit) {
      const set = zset(key);
      if (!set) return [];
      const due = sortedMembers(set, -Infinity, maxScore).slice(0, limit);
      for (const member of due) set.set(member, newScore);
      return due;
    },
    async ping() {},
  };
}
