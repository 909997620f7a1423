import { describeError, type Logger } from '../logger.js';
import type { LivenessMonitor } from '../sessions/livenessMonitor.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';

export interface UserRecheck {
  /** Schedules a re-check of every remaining session of (issuer, `sub`); one pending per user. */
  schedule(issuer: string, sub: string): void;
  stop(): void;
}

/**
 * After a logout token that names a user, re-checks that user's other sessions against the provider
 * at once (the liveness monitor's refresh-grant check, bounded concurrency), because a user-wide
 * sign-out may name only one `sid` (Keycloak 26.4's "Logout all sessions"). The check waits
 * `delayMs` first: the provider sends the token in the middle of its own logout and commits it
 * (other sessions removed, refresh tokens void) only after we answer, so a check made at once
 * could still find those sessions alive. Tokens for the same user while one check is pending join it.
 */
export function createUserRecheck(deps: {
  index: SessionIndex;
  liveness: Pick<LivenessMonitor, 'recheck'>;
  delayMs: number;
  log: Logger;
}): UserRecheck {
  const pending = new Map<string, NodeJS.Timeout>();
  const run = async (issuer: string, sub: string) => {
    const sids = await deps.index.byUser(issuer, sub);
    await deps.liveness.recheck(sids);
    if (sids.length > 0) deps.log.info({ sessions: sids.length }, "re-checked a signed-out user's other sessions");
  };
  return {
    schedule(issuer, sub) {
      const key = `${issuer}\n${sub}`;
      if (pending.has(key)) return;
      const timer = setTimeout(() => {
        run(issuer, sub)
          .catch((err: unknown) => deps.log.warn({ err: describeError(err) }, "re-checking a signed-out user's sessions failed; the liveness check remains"))
          .finally(() => pending.delete(key));
      }, deps.delayMs);
      timer.unref();
      pending.set(key, timer);
    },
    stop() {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}
