import type { Revocation } from './revocation.js';
import type { SessionStore } from './sessionStore.js';
import type { Tombstones } from './tombstones.js';

/**
 * Why a session is no longer live, or null while it is: its tombstone, else `expired` when its record
 * is gone. The tombstone wins over a record (a writer that raced the revocation may have put one back).
 * Rejects with a 503 HttpError when Redis fails.
 */
export function createRevocationOf(deps: { tombstones: Tombstones; store: SessionStore }): (sessionId: string) => Promise<Revocation | null> {
  return async (sessionId) =>
    (await deps.tombstones.get(sessionId)) ?? ((await deps.store.read(sessionId)) ? null : { reason: 'expired', at: new Date().toISOString() });
}
