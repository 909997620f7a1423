import { describeError, type Logger } from '../logger.js';
import type { LivenessSchedule } from './livenessSchedule.js';
import type { RefreshTokens } from './refreshTokens.js';
import type { RevokeSessions } from './revokeSessions.js';
import type { SessionStore } from './sessionStore.js';

export interface LivenessMonitor {
  start(): void;
  stop(): Promise<void>;
  /** One round: check every session that is due (what each tick runs; a round still running is shared). Exposed for tests. */
  runOnce(): Promise<number>;
  /**
   * Checks these sessions against the provider now, whatever their schedule (a forced refresh-token
   * grant; a refused grant revokes the session as `provider_session_ended`), at most `concurrency`
   * at once. A session that no longer exists is left alone. Never throws: failures are logged.
   */
  recheck(sessionIds: readonly string[]): Promise<void>;
}

export interface LivenessDeps {
  schedule: LivenessSchedule;
  store: SessionStore;
  refresh: RefreshTokens;
  revoke: RevokeSessions;
  intervalMs: number;
  log: Logger;
  batchSize?: number;
  concurrency?: number;
}

/**
 * Re-checks each session against the provider every `intervalMs` (a forced refresh-token grant),
 * because the provider does not always tell us: Keycloak's realm-wide "sign out all" sends no
 * logout token and its per-user logout names only one `sid`. Also notices sessions that expired
 * (idle timeout, absolute lifetime) so their open streams are told. Each session's next check is
 * spread by ±10% jitter, and at most `concurrency` checks run at once per replica.
 */
export function createLivenessMonitor(deps: LivenessDeps): LivenessMonitor {
  const batchSize = deps.batchSize ?? 100;
  const concurrency = deps.concurrency ?? 8;
  const tickMs = Math.max(100, Math.min(deps.intervalMs / 4, 5000));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const nextDue = () => Date.now() + deps.intervalMs * (0.9 + Math.random() * 0.2);

  const check = async (sessionId: string): Promise<void> => {
    const data = await deps.store.read(sessionId);
    if (!data?.auth) {
      await deps.revoke([sessionId], 'expired');
      return;
    }
    if (data.auth.absoluteExpiresAt <= Date.now()) {
      await deps.revoke([sessionId], 'expired');
      return;
    }
    const outcome = await deps.refresh(sessionId, { force: true });
    if (outcome !== 'revoked' && outcome !== 'tokens_lost' && outcome !== 'gone') await deps.schedule.track(sessionId, nextDue());
  };

  const round = async (): Promise<number> => {
    let checked = 0;
    for (;;) {
      const due = await deps.schedule.claimDue(Date.now(), Date.now() + deps.intervalMs, batchSize);
      for (let i = 0; i < due.length; i += concurrency) {
        await Promise.all(
          due.slice(i, i + concurrency).map((sessionId) =>
            check(sessionId).catch((err) => deps.log.warn({ err: describeError(err) }, 'liveness check failed; retried next round')),
          ),
        );
      }
      checked += due.length;
      if (due.length < batchSize) return checked;
    }
  };

  const runOnce = (): Promise<number> => {
    running ??= round().finally(() => (running = undefined));
    return running;
  };

  const recheck = async (sessionIds: readonly string[]): Promise<void> => {
    for (let i = 0; i < sessionIds.length; i += concurrency) {
      await Promise.all(
        sessionIds.slice(i, i + concurrency).map((sessionId) =>
          deps.refresh(sessionId, { force: true }).catch((err) => deps.log.warn({ err: describeError(err) }, 'session re-check failed')),
        ),
      );
    }
  };

  return {
    recheck,
    start() {
      if (deps.intervalMs <= 0 || timer) return;
      timer = setInterval(() => {
        runOnce().catch((err) => deps.log.warn({ err: describeError(err) }, 'liveness round failed'));
      }, tickMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    runOnce,
  };
}
