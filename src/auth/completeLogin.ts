import type { Request, Response } from 'express';
import type { authorizationCodeGrant } from 'openid-client';
import { HttpError } from '../errors.js';
import { detachSession } from '../sessions/requestSession.js';
import { describeError, type Logger } from '../logger.js';
import type { AuthState } from '../sessions/authState.js';
import { identityOf, type ExternalIdentity } from '../sessions/externalIdentity.js';
import type { LivenessSchedule } from '../sessions/livenessSchedule.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import type { SessionStore } from '../sessions/sessionStore.js';
import { toTokenSet } from '../sessions/tokenSet.js';
import { userFromClaims } from '../sessions/userFromClaims.js';
import type { Config } from '../config/loadConfig.js';

/** Just-in-time user provisioning (the board's users table); failures must not block sign-in. */
export type ProvisionUser = (identity: ExternalIdentity) => Promise<void>;

type TokenResponse = Awaited<ReturnType<typeof authorizationCodeGrant>>;

/**
 * Turns a validated token response into a brand-new session: a fresh session id (no fixation),
 * tokens kept server-side, index and liveness entries written before the session itself (so a crash
 * between the two leaves a stale index entry, never an unfindable session), the user provisioned.
 * Throws HttpError 401 `session_revoked` when the session was revoked before its record was saved
 * (its cookie then reads `session_revoked`), 503 when Redis fails (no cookie is set).
 */
export async function completeLogin(
  req: Request,
  res: Response,
  tokens: TokenResponse,
  deps: {
    config: Config;
    store: SessionStore;
    index: SessionIndex;
    schedule: LivenessSchedule;
    provisionUser: ProvisionUser;
    log: Logger;
  },
): Promise<void> {
  const claims = tokens.claims();
  if (!claims) throw new HttpError(400, 'login_failed', 'The identity provider returned no ID token');
  const { session: sessionConfig } = deps.config;
  const now = Date.now();
  const auth: AuthState = {
    issuer: claims.iss,
    sub: claims.sub,
    providerSid: typeof claims.sid === 'string' ? claims.sid : undefined,
    user: userFromClaims(claims, deps.config.oidc.rolesClaim),
    tokens: toTokenSet(tokens),
    loginTime: new Date(now).toISOString(),
    absoluteExpiresAt: now + sessionConfig.absoluteSeconds * 1000,
  };

  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  const sessionId = req.sessionID;
  req.session.auth = auth;
  // The cookie lives to the absolute end and is sent once: the idle timeout is the record's TTL in
  // the store, renewed there (SessionStore), so responses need not re-sign and re-send the cookie.
  req.session.cookie.expires = new Date(auth.absoluteExpiresAt);

  await deps.index.add({ sessionId, issuer: auth.issuer, sub: auth.sub, providerSid: auth.providerSid, expiresAt: auth.absoluteExpiresAt });
  if (sessionConfig.livenessIntervalSeconds > 0) {
    await deps.schedule.track(sessionId, now + sessionConfig.livenessIntervalSeconds * 1000);
  }
  await deps
    .provisionUser(identityOf(auth))
    .catch((err: unknown) => deps.log.warn({ err: describeError(err) }, 'user provisioning failed; sign-in continues'));
  // The store re-checks revocation after writing: a back-channel logout for this provider session
  // that found this session in the index meanwhile makes the save fail with 401 session_revoked.
  try {
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    if (!(err instanceof HttpError) || err.code !== 'session_revoked') {
      // Unsure whether the record was written (a timed-out SET may still run): give the browser no
      // cookie for it, and remove it (queued behind the SET on the same connection).
      detachSession(req, res);
      await deps.store.remove(sessionId).catch(() => undefined);
    }
    throw err;
  }
  deps.log.info({ user: auth.user.username, providerSession: Boolean(auth.providerSid) }, 'signed in');
}
