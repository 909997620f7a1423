import { Router } from 'express';
import type { SessionStore } from '../sessions/sessionStore.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import { actorOf, type RevokeSessions } from '../sessions/revokeSessions.js';
import type { CsrfGuard } from './csrf.js';
import { HttpError } from '../errors.js';
import { liveSessionOf, sessionOf, type RequestSession } from '../sessions/requestSession.js';
import type { SessionGuard } from './sessionGuard.js';
import { sessionHandleOf } from '../sessions/sessionHandle.js';

const MAX_LISTED_SESSIONS = 500;

/** The JSON body of `GET /api/user` for a live session (here and in accountReadRoute.ts, before Express). */
export function userAnswer(session: LiveRequestSession): { user: LiveRequestSession['auth']['user'] } {
  return { user: session.auth.user };
}

/** The JSON body of `GET /api/session-status` (here and, for a live session, in accountReadRoute.ts). */
export function sessionStatusAnswer(session: RequestSession): { authenticated: boolean; sessionActive: boolean; reason?: string } {
  if (session.state === 'live') return { authenticated: true, sessionActive: true };
  if (session.state === 'revoked') return { authenticated: true, sessionActive: false, reason: session.revocation.reason };
  return { authenticated: false, sessionActive: false };
}

type LiveRequestSession = Extract<RequestSession, { state: 'live' }>;

/** `GET /api/user`, `GET /api/session-status`, `GET /api/sessions`, `DELETE /api/sessions/:sessionId`. */
export function createAccountRouter(deps: {
  guard: SessionGuard;
  csrf: CsrfGuard;
  store: SessionStore;
  index: SessionIndex;
  revoke: RevokeSessions;
  moderatorRole: string;
}): Router {
  const router = Router();
  const { requireSession } = deps.guard;

  router.get('/api/user', requireSession, (_req, res) => {
    res.json(userAnswer(liveSessionOf(res)));
  });

  router.get('/api/session-status', (_req, res) => {
    res.json(sessionStatusAnswer(sessionOf(res)));
  });

  /** The caller's live sessions, or everyone's for a moderator asking `?all=true`. */
  const visibleSessions = async (session: ReturnType<typeof liveSessionOf>, all: boolean) => {
    if (all && !session.auth.user.roles.includes(deps.moderatorRole)) {
      throw new HttpError(403, 'forbidden', `Listing all sessions needs the ${deps.moderatorRole} role`);
    }
    const sessionIds = all
      ? await deps.index.all(MAX_LISTED_SESSIONS)
      : await deps.index.byUser(session.auth.issuer, session.auth.sub);
    const records = await Promise.all(sessionIds.slice(0, MAX_LISTED_SESSIONS).map(async (sessionId) => ({ sessionId, data: await deps.store.readLive(sessionId) })));
    return records.flatMap(({ sessionId, data }) => (data?.auth ? [{ sessionId, auth: data.auth }] : []));
  };

  router.get('/api/sessions', requireSession, async (req, res) => {
    const session = liveSessionOf(res);
    const sessions = await visibleSessions(session, req.query.all === 'true');
    res.json({
      sessions: sessions
        .map(({ sessionId, auth }) => ({
          sessionId: sessionHandleOf(sessionId),
          userId: auth.user.id,
          userName: auth.user.name,
          loginTime: auth.loginTime,
          current: sessionId === session.sessionId,
        }))
        .sort((a, b) => b.loginTime.localeCompare(a.loginTime)),
    });
  });

  router.delete('/api/sessions/:sessionId', requireSession, deps.csrf.requireCsrf, async (req, res) => {
    const session = liveSessionOf(res);
    const isModerator = session.auth.user.roles.includes(deps.moderatorRole);
    const target = (await visibleSessions(session, isModerator)).find(({ sessionId }) => sessionHandleOf(sessionId) === req.params.sessionId);
    if (!target) throw new HttpError(404, 'not_found', 'No live session of yours has that id');
    await deps.revoke([target.sessionId], 'revoked', actorOf(session.auth));
    res.json({ revoked: req.params.sessionId });
  });

  return router;
}
