import type { Request, Response } from 'express';
import { HttpError } from '../errors.js';
import type { AuthState } from './authState.js';
import type { Revocation } from './revocation.js';

/**
 * A request's session as resolved by the session guard (`res.locals.session`):
 * live, revoked (a tombstone answered for the cookie), or none.
 */
export type RequestSession =
  | { state: 'live'; sessionId: string; sessionHandle: string; auth: AuthState }
  | { state: 'revoked'; revocation: Revocation }
  | { state: 'none' };

/** The request's session as the session guard resolved it (`res.locals.session`); `none` before that. */
export function sessionOf(res: Response): RequestSession {
  return (res.locals.session as RequestSession | undefined) ?? { state: 'none' };
}

/**
 * Detaches the session from the request so express-session neither writes it back nor re-sends its
 * cookie: after a logout (the record is gone) or on a stream (which outlives any use of it).
 */
export function detachSession(req: Request, res: Response): void {
  // Assigned, not deleted: `delete` would turn these long-lived objects into slower, larger dictionaries.
  (req as { session?: unknown }).session = undefined;
  res.locals.session = undefined;
}

/** The live session of a request that passed `requireSession`. */
export function liveSessionOf(res: Response): Extract<RequestSession, { state: 'live' }> {
  const session = sessionOf(res);
  if (session.state !== 'live') throw new HttpError(401, 'unauthenticated', 'Sign in first');
  return session;
}
