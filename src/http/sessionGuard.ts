import type { Request, RequestHandler } from 'express';
import { sessionOf, type RequestSession } from '../sessions/requestSession.js';
import type { RefreshTokens } from '../sessions/refreshTokens.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import { issuedBeforeNotBefore } from '../sessions/sessionMarks.js';
import { HttpError } from '../errors.js';
import { sessionHandleOf } from '../sessions/sessionHandle.js';

export interface SessionGuard {
  /** Sets `res.locals.session` for every request that went through express-session. */
  resolveSession: RequestHandler;
  /** 401 unless the session is live: `session_revoked` for a tombstoned cookie, `unauthenticated` otherwise. */
  requireSession: RequestHandler;
}

/**
 * Decides, per request, whether the cookie's session is alive: past its absolute lifetime it is
 * revoked as `expired`; with the access token near expiry the tokens are refreshed, and a provider
 * that refuses the refresh ends the session here and now.
 */
export function createSessionGuard(deps: {
  refresh: RefreshTokens;
  revoke: RevokeSessions;
  skewMs: number;
}): SessionGuard {
  const resolve = async (req: Request): Promise<RequestSession> => {
    const data = req.session;
    if (!data) return { state: 'none' };
    if (data.revoked) return { state: 'revoked', revocation: data.revoked };
    const auth = data.auth;
    if (!auth) return { state: 'none' };
    const sessionId = req.sessionID;
    if (auth.absoluteExpiresAt <= Date.now()) {
      await deps.revoke([sessionId], 'expired');
      return { state: 'revoked', revocation: { reason: 'expired', at: new Date().toISOString() } };
    }
    // Issuer-wide not-before (Keycloak "Sign out all", "Revocation → Push"): the sweep revoked what
    // it found; this catches a session it missed, or one restored from an old record.
    if (issuedBeforeNotBefore(data)) {
      await deps.revoke([sessionId], 'backchannel_logout');
      return { state: 'revoked', revocation: { reason: 'backchannel_logout', at: new Date().toISOString() } };
    }
    if (auth.tokens.expiresAt - Date.now() <= deps.skewMs) {
      const outcome = await deps.refresh(sessionId);
      if (outcome === 'revoked') return { state: 'revoked', revocation: { reason: 'provider_session_ended', at: new Date().toISOString() } };
      if (outcome === 'tokens_lost') return { state: 'revoked', revocation: { reason: 'expired', at: new Date().toISOString() } };
    }
    // The handle (a digest of the id) is computed only by the routes that use it (streams, the
    // sessions list): eagerly it was ~1.5 % of the CPU of every API request (README "Performance").
    let sessionHandle: string | undefined;
    return { state: 'live', sessionId, auth, get sessionHandle() { return (sessionHandle ??= sessionHandleOf(sessionId)); } };
  };

  return {
    async resolveSession(req, res, next) {
      res.locals.session = await resolve(req);
      next();
    },
    requireSession(_req, res, next) {
      const session = sessionOf(res);
      if (session.state === 'live') return next();
      if (session.state === 'revoked') {
        return next(
          new HttpError(401, 'session_revoked', `This session has ended (${session.revocation.reason}); sign in again`),
        );
      }
      next(new HttpError(401, 'unauthenticated', 'Sign in first'));
    },
  };
}
