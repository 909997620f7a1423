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
 * sign-out may name only one `sid` (Keycloak 26.4's "Logout all sessions"). The provider sends the
 * token in the middle of its own logout and commits it (other sessions removed, refresh tokens
 * void) only after we answer, so the check waits `delayMs` first, and runs once more `4 × delayMs`
 * later for a check that may still have come too early. Tokens for the same user while a check is
 * pending join it.
 */
export function createUserRecheck(deps: {
  index: SessionIndex;
  liveness: Pick<LivenessMonitor, 'recheck'>;
  delayMs: number;
  log: Logger;
}): UserRecheck {
  const pending = new Map<string, NodeJS.Timeout>();
  const pass = async (issuer: string, sub: string) => {
    const sessionIds = await deps.index.byUser(issuer, sub);
    await deps.liveness.recheck(sessionIds);
    if (sessionIds.length > 0) deps.log.info({ sessions: sessionIds.length }, "re-checked a signed-out user's other sessions");
  };
  const later = (key: string, delayMs: number, work: () => Promise<void>) => {
    const timer = setTimeout(() => {
      work().catch((err: unknown) => {
        pending.delete(key);
        deps.log.warn({ err: describeError(err) }, "re-checking a signed-out user's sessions failed; the liveness check remains");
      });
    }, delayMs);
    timer.unref();
    pending.set(key, timer);
  };
  return {
    schedule(issuer, sub) {
      const key = `${issuer}\n${sub}`;
      if (pending.has(key)) return;
      later(key, deps.delayMs, async () => {
        await pass(issuer, sub);
        later(key, deps.delayMs * 4, async () => {
          pending.delete(key);
          await pass(issuer, sub);
        });
      });
    },
    stop() {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}
