import type { RedisConnection } from './redisClient.js';
import { unavailable } from '../errors.js';
import type { Kv } from './kv.js';

// Each script touches only KEYS[1], and every other command one key: one slot each, so Redis Cluster
// accepts them all without hash tags (nothing here is MULTI or multi-key).
const scripts = {
  delIfValue: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  zaddExpiring: `
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    if ARGV[3] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3]) end
    if ARGV[4] ~= '' then
      local ttl = redis.call('PTTL', KEYS[1])
      local wanted = tonumber(ARGV[4]) - tonumber(ARGV[5])
      if ttl >= 0 and ttl < wanted or ttl == -1 then redis.call('PEXPIRE', KEYS[1], wanted) end
    end
    return 1`,
  zclaim: `
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
    for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
    return due`,
} as const;

type ScriptClient = RedisConnection & {
  bffDelIfValue(key: string, value: string): Promise<number>;
  bffZaddExpiring(key: string, member: string, score: number, pruneBelow: string, keyExpiresAt: string, now: number): Promise<number>;
  bffZclaim(key: string, maxScore: number, newScore: number, limit: number): Promise<string[]>;
};

export function createRedisKv(redis: RedisConnection): Kv {
  const client = redis as ScriptClient;
  if (!('bffZclaim' in redis)) {
    redis.defineCommand('bffDelIfValue', { numberOfKeys: 1, lua: scripts.delIfValue });
    redis.defineCommand('bffZaddExpiring', { numberOfKeys: 1, lua: scripts.zaddExpiring });
    redis.defineCommand('bffZclaim', { numberOfKeys: 1, lua: scripts.zclaim });
  }
  return asUnavailable({
    get: (key) => client.get(key),
    async set(key, value, ttlMs, onlyIfAbsent = false) {
      const ttl = pxOf(ttlMs);
      const reply = onlyIfAbsent ? await client.set(key, value, 'PX', ttl, 'NX') : await client.set(key, value, 'PX', ttl);
      return reply === 'OK';
    },
    async del(key) {
      await client.del(key);
    },
    async delIfValue(key, value) {
      return (await client.bffDelIfValue(key, value)) === 1;
    },
    async zadd(key, member, score, options = {}) {
      const now = Date.now();
      await client.bffZaddExpiring(
        key,
        member,
        score,
        options.pruneBelow === undefined ? '' : String(options.pruneBelow),
        options.keyExpiresAt === undefined ? '' : String(Math.max(options.keyExpiresAt, now + 1)),
        now,
      );
    },
    async zrem(key, member) {
      await client.zrem(key, member);
    },
    zrangeByScore: (key, min, max, limit) =>
      client.zrangebyscore(key, toScore(min), toScore(max), 'LIMIT', 0, limit),
    zclaim: (key, maxScore, newScore, limit) => client.bffZclaim(key, maxScore, newScore, limit),
    async ping() {
      await client.ping();
    },
  });
}

/**
 * A TTL as `PX` takes it: whole milliseconds, at least 1 (0 or a fraction is refused or means none),
 * at most Number.MAX_SAFE_INTEGER (~285,000 years): a larger number is sent in exponent notation,
 * which Redis refuses, and an expiry past its own clock's range is refused too. So a lifetime
 * without a practical end (a replay marker for a signed `exp` of 1e308) is kept, not lost.
 */
export function pxOf(ttlMs: number): number {
  return Math.min(Math.max(1, Math.ceil(ttlMs)), Number.MAX_SAFE_INTEGER);
}

/** Any Redis failure surfaces as one 503 error: retryable by clients, never a silent login or logout. */
function asUnavailable(kv: Kv): Kv {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(kv) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw unavailable('Redis', err);
      }
    };
  }
  return wrapped as unknown as Kv;
}

function toScore(value: number): string {
  if (value === Infinity) return '+inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}
