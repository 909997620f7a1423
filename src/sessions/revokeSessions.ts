import type { Logger } from '../logger.js';
import type { AuthState } from './authState.js';
import type { RevocationReason } from './revocation.js';
import type { LivenessSchedule } from './livenessSchedule.js';
import type { SessionIndex } from './sessionIndex.js';
import type { SessionStore } from './sessionStore.js';
import type { TombstoneThenTell } from './tombstoneThenTell.js';
import { sessionHandleOf } from './sessionHandle.js';

export type RevokeSessions = (sessionIds: readonly string[], reason: RevocationReason, actor?: RevocationActor) => Promise<number>;

/** The signed-in user who asked for a revocation (none for the provider, expiry or liveness). */
export interface RevocationActor {
  issuer: string;
  sub: string;
  name: string;
}

export const actorOf = (auth: AuthState): RevocationActor => ({ issuer: auth.issuer, sub: auth.sub, name: auth.user.name });

/** One session that was alive when revoked: what the audit trail records. */
export interface RevokedSession {
  sessionHandle: string;
  reason: RevocationReason;
  at: string;
  owner: RevocationActor;
  actor: RevocationActor | undefined;
}

export interface RevokeDeps {
  store: SessionStore;
  index: SessionIndex;
  schedule: LivenessSchedule;
  /** The tombstone, then `session_invalidated` to the session's streams (one script on Redis). */
  tombstoneThenTell: TombstoneThenTell;
  /** How long a tombstone outlives a session whose record is already gone. */
  absoluteLifetimeMs: number;
  log: Logger;
  onRevoked?: (reason: RevocationReason, count: number) => void;
  /** Called once the tombstone is down for a session whose record existed (the audit trail). */
  onSessionRevoked?: (revoked: RevokedSession) => void;
}

/**
 * The one way a session ends, whatever ended it (back-channel logout, local logout, another
 * device, a dead provider session, expiry). Per session, in an order where every intermediate
 * state is safe: tombstone first (the cookie reads "revoked" from now on) and
 * `session_invalidated` on the session's topic right behind it, which reaches its streams on
 * whichever replica holds them, then the record, then the index and schedule entries. Every step
 * may be repeated (a retry after a timeout whose command ran anyway). Returns how many sessions
 * still existed.
 *
 * Three round trips per call, whatever the number of sessions (commands issued together are
 * auto-pipelined, and Redis runs one connection's commands in the order sent), the event in the
 * first: the record is read in the round trip that writes the tombstone and publishes (one script,
 * TombstoneThenTell), so the tombstone lives for the absolute lifetime (as long as any cookie may
 * be presented) rather than the record's remaining share of it. Done one after another these were
 * five round trips, all before the POST could answer and four before the streams were told; the
 * event then left with the record's deletion, a round trip after the tombstone (README
 * "Performance"; `npm run bench:sse -- baseline=<older build>` measures it).
 */
export function createRevokeSessions(deps: RevokeDeps): RevokeSessions {
  const revokeOne = async (sessionId: string, reason: RevocationReason, actor: RevocationActor | undefined): Promise<boolean> => {
    const at = new Date().toISOString();
    const [data] = await Promise.all([deps.store.read(sessionId), deps.tombstoneThenTell(sessionId, { reason, at }, deps.absoluteLifetimeMs)]);
    const auth = data?.auth;
    // From here the session is dead for every request and its streams are told; a failure below
    // leaves it so and is retried.
    if (auth) deps.onSessionRevoked?.({ sessionHandle: sessionHandleOf(sessionId), reason, at, owner: actorOf(auth), actor });
    await deps.store.remove(sessionId);
    // Index entries go last: a revocation that fails before this point (a timed-out command) is
    // retried by whoever asked, and the retry finds the session through the index again.
    await Promise.all([
      auth ? deps.index.remove({ sessionId, issuer: auth.issuer, sub: auth.sub, providerSid: auth.providerSid }) : undefined,
      deps.schedule.untrack(sessionId),
    ]);
    return auth !== undefined;
  };

  return async (sessionIds, reason, actor) => {
    const unique = [...new Set(sessionIds)];
    const results = await Promise.all(unique.map((sessionId) => revokeOne(sessionId, reason, actor)));
    const count = results.filter(Boolean).length;
    if (unique.length > 0) {
      deps.log.info({ reason, sessions: unique.map(sessionHandleOf), existed: count }, 'sessions revoked');
      deps.onRevoked?.(reason, count);
    }
    return count;
  };
}
