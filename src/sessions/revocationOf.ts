import type { Revocation } from './revocation.js';
import type { SessionStore } from './sessionStore.js';
import type { Tombstones } from './tombstones.js';

/**
 * Why a session is no longer live, or null while it is: its tombstone, else `expired` when its record
 * is gone. The tombstone wins over a record (a writer that raced the revocation may have put one back).
 * Rejects with a 503 HttpError when Redis fails.
 */
export function createRevocationOf(deps: { tombstones: Tombstones; store: SessionStore }): (sessionId: string) => Promise<Revocation | null> {
  return async (sessionId) => {
    // Both reads sent together (one auto-pipelined round trip) rather than the record only once the
    // tombstone is known absent: every stream that opens waits on this, and what it holds meanwhile
    // V8 promotes to the old generation when many streams open at once (README "Performance").
    const record = deps.store.read(sessionId);
    record.catch(() => {}); // a tombstone decides without it; otherwise awaited below
    return (await deps.tombstones.get(sessionId)) ?? ((await record) ? null : { reason: 'expired', at: new Date().toISOString() });
  };
}
