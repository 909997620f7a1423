/**
 * The idle timeout as the store applies it. A record lives `idleMs + slackMs` from its last write
 * or renewal, and is renewed (EXPIRE) only once `slackMs` has passed since then, instead of on
 * every request: so a session used within `idleMs` of its last use never ends, one left idle ends
 * between `idleMs` and `idleMs + slackMs` after its last use, and a busy session costs one EXPIRE a
 * minute rather than one per request. `remainingMs` reads the record's TTL in the same round trip
 * as the record itself; absent (the in-process twin), every request renews, as before.
 */
export interface IdleTimeout {
  idleMs: number;
  slackMs: number;
  remainingMs?: (sessionId: string) => Promise<number>;
}

/** Renewal slack for an idle timeout of `idleMs`: a tenth of it, between 1 s and 60 s (ms). */
export function renewalSlackMs(idleMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(idleMs / 10_000) * 1000));
}
