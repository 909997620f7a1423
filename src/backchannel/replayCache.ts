import { keyDigest, redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';

/**
 * Remembers which signed one-time messages (a logout token's `jti`, an admin action's `id`) were
 * processed, per issuer and kind, shared by every replica, until the message could no longer verify.
 *
 * The marker means "processed", so it is written only after the work succeeded: a Redis command
 * that timed out may still run later, and a marker written before the work (SET NX, then DEL on
 * failure) survives a stall whenever the SET runs and the compensating DEL does not, turning the
 * provider's retry of a 503 into a "replay". Two copies racing through at once both do the work,
 * which is idempotent (revocation).
 */
export interface ReplayCache {
  /** True when this id was already processed. */
  seen(issuer: string, id: string): Promise<boolean>;
  /** Records a processed id until `untilMs` (epoch ms). */
  remember(issuer: string, id: string, untilMs: number): Promise<void>;
}

/** `kind` keeps namespaces apart: `jti` (logout tokens), `admin` (Keycloak admin actions). */
export function createReplayCache(kv: Kv, prefix: string, kind: 'jti' | 'admin' = 'jti', now: () => number = Date.now): ReplayCache {
  const keys = redisKeys(prefix);
  const keyOf = kind === 'admin' ? keys.adminActionReplay : keys.logoutTokenReplay;
  const key = (issuer: string, id: string) => keyOf(keyDigest(issuer, id));
  return {
    seen: async (issuer, id) => (await kv.get(key(issuer, id))) !== null,
    async remember(issuer, id, untilMs) {
      await kv.set(key(issuer, id), '1', Math.max(untilMs - now(), 1000));
    },
  };
}
