import { redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';

/**
 * When each session is next re-checked against the provider: one sorted set scored by due time,
 * shared by the replicas. A replica claims due sessions by pushing their score to a lease, so two
 * replicas never check the same session in the same round.
 */
export interface LivenessSchedule {
  track(sessionId: string, dueAt: number): Promise<void>;
  untrack(sessionId: string): Promise<void>;
  claimDue(now: number, leaseUntil: number, limit: number): Promise<string[]>;
}

export function createLivenessSchedule(kv: Kv, prefix: string): LivenessSchedule {
  const key = redisKeys(prefix).livenessSchedule;
  return {
    track: (sessionId, dueAt) => kv.zadd(key, sessionId, dueAt),
    untrack: (sessionId) => kv.zrem(key, sessionId),
    claimDue: (now, leaseUntil, limit) => kv.zclaim(key, now, leaseUntil, limit),
  };
}
