import type { IncomingMessage } from 'node:http';
import { parse as parseCookies } from 'cookie';
import { unsign } from 'cookie-signature';
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import type { RequestSession } from './requestSession.js';
import type { SessionStore } from './sessionStore.js';

export interface LiveSessionDeps {
  /** The session cookie's name and signing secrets, as express-session uses them. */
  cookieName: string;
  secrets: readonly string[];
  store: SessionStore;
  /**
   * The session guard's `resolveSession`, which decides every other route's "is this session live"
   * (absolute lifetime, refresh, issuer-wide not-before, …): given `req.session` and `req.sessionID`,
   * it sets `res.locals.session`.
   */
  resolveSession: RequestHandler;
}

/** A request's session as the session guard found it live, with the record it was loaded from. */
export interface LiveSession {
  session: Extract<RequestSession, { state: 'live' }>;
  /** The record as `store.get` returned it (its renewal mark included): what `store.touch` takes. */
  record: SessionData;
}

/**
 * Calls `live` with the request's session if it is plainly live, `fallback` otherwise (exactly once
 * either way, never synchronously before `store.get` answers).
 */
export type LiveSessionLookup = (req: IncomingMessage, live: (found: LiveSession) => void, fallback: () => void) => void;

/**
 * The session of a request served before Express (the event stream, the account reads), decided as
 * express-session and the session guard decide it on the Express route: the signed cookie gives the
 * session id, `store.get` the record (one Redis round trip: record, tombstone, TTL, not-before), the
 * guard's `resolveSession` whether it is live (refresh included). Only the plainly live case goes to
 * `live`: no cookie, a bad signature, an unknown or revoked session, a failing store, a guard that
 * throws or finds it anything but live — all go to `fallback`, where the Express route answers
 * them as it always has. Nothing here writes or renews the session.
 */
export function createLiveSessionLookup(deps: LiveSessionDeps): LiveSessionLookup {
  return (req, live, fallback) => {
    const sessionId = sessionIdOf(req.headers.cookie, deps.cookieName, deps.secrets);
    if (!sessionId) return fallback();
    deps.store.get(sessionId, (err, data) => {
      if (err || !data || data.revoked) return fallback();
      // The guard reads what express-session sets on a request and answers in res.locals: it gets just
      // those, so the caller's own request and response objects keep no session and no extra fields.
      const request = { session: data, sessionID: sessionId };
      const response: { locals: { session?: RequestSession } } = { locals: {} };
      let settled = false;
      const decided = (failed?: unknown) => {
        if (settled) return;
        settled = true;
        const session = response.locals.session;
        if (failed || session?.state !== 'live') return fallback();
        live({ session, record: data });
      };
      Promise.resolve(deps.resolveSession(request as never, response as never, decided)).catch(decided);
    });
  };
}

/**
 * The session id in a signed express-session cookie (`s:<id>.<HMAC>`, URI-encoded) verified against
 * each secret, or undefined. Parsed by the `cookie` package, as express-session does: the first
 * cookie of that name counts.
 */
function sessionIdOf(header: string | undefined, name: string, secrets: readonly string[]): string | undefined {
  if (!header) return undefined;
  const value = parseCookies(header)[name];
  if (!value?.startsWith('s:')) return undefined;
  for (const secret of secrets) {
    const sessionId = unsign(value.slice(2), secret);
    if (sessionId !== false) return sessionId;
  }
  return undefined;
}
