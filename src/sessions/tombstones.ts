import { redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';
import type { Revocation } from './revocation.js';

/**
 * What remains of a revoked session: the reason, under the app's session id (never the provider's
 * `sid`, which a later login may reuse), kept as long as the cookie could still be presented. The
 * first revocation's reason stays: a later one (a liveness check finding the record gone, a retry)
 * never rewrites the `backchannel_logout` that `/api/session-status` reports.
 */
export interface Tombstones {
  /** Writes the tombstone unless one stands already (SET NX). */
  put(sessionId: string, revocation: Revocation, ttlMs: number): Promise<void>;
  get(sessionId: string): Promise<Revocation | null>;
}

/** A tombstone's stored value (also written from a script: src/sessions/tombstoneThenTell.ts). */
export function tombstoneValue(revocation: Revocation): string {
  return JSON.stringify(revocation);
}

export function createTombstones(kv: Kv, prefix: string): Tombstones {
  const key = redisKeys(prefix).tombstone;
  return {
    async put(sessionId, revocation, ttlMs) {
      await kv.set(key(sessionId), tombstoneValue(revocation), ttlMs, true);
    },
    async get(sessionId) {
      const raw = await kv.get(key(sessionId));
      return raw ? (JSON.parse(raw) as Revocation) : null;
    },
  };
}
