/**
 * The handful of Redis commands the service builds on, as an interface with two implementations:
 * `createRedisKv` (shared by all replicas) and `createMemoryKv` (one process). Every call touches
 * exactly one key, so the layout works unchanged on Redis Cluster.
 */
export interface Kv {
  get(key: string): Promise<string | null>;
  /** SET with a TTL; with `onlyIfAbsent` it is SET NX and answers whether it wrote. */
  set(key: string, value: string, ttlMs: number, onlyIfAbsent?: boolean): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Deletes the key only if it still holds `value` (lock release). */
  delIfValue(key: string, value: string): Promise<boolean>;
  /**
   * Adds `member` with `score` to a sorted set, drops members scored below `pruneBelow`, and keeps
   * the key alive at least until `keyExpiresAt` (epoch ms).
   */
  zadd(key: string, member: string, score: number, options?: { pruneBelow?: number; keyExpiresAt?: number }): Promise<void>;
  zrem(key: string, member: string): Promise<void>;
  /** Members with min <= score <= max, lowest score first, at most `limit`. */
  zrangeByScore(key: string, min: number, max: number, limit: number): Promise<string[]>;
  /** Atomically takes up to `limit` members scored <= `maxScore` and re-scores them to `newScore`. */
  zclaim(key: string, maxScore: number, newScore: number, limit: number): Promise<string[]>;
  ping(): Promise<void>;
}
