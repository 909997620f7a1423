import cors from 'cors';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Config } from '../config/loadConfig.js';
import type { SessionStore } from '../sessions/sessionStore.js';

/**
 * The layer every browser route (`/auth`, `/api`) passes: CORS for the configured frontends (with
 * credentials), then the session cookie loaded through express-session, then `resolveSession`
 * (the session guard's), which sets `res.locals.session`.
 */
export function createBrowserSession(deps: {
  allowedOrigins: ReadonlySet<string>;
  session: Config['session'];
  store: SessionStore;
  resolveSession: RequestHandler;
}): RequestHandler[] {
  const { allowedOrigins, session: settings } = deps;
  return [
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin) ? origin : false),
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Content-Type', 'X-CSRF', 'X-Request-Id', 'Last-Event-ID'],
      maxAge: 600,
    }),
    session({
      name: settings.cookieName,
      secret: settings.secrets,
      store: deps.store,
      resave: false,
      saveUninitialized: false,
      // Not rolling: the cookie is set once, at sign-in, expiring at the session's absolute end; the
      // idle timeout lives in the store (SessionStore renews the record's TTL when due), so responses
      // no longer re-sign (HMAC) and re-send the cookie, and no EXPIRE round trip holds them back.
      rolling: false,
      // Never 'destroy': express-session would then delete the record of every request left without
      // a session — a failed load (Redis timed out), a detached stream, a logout — even one it never
      // read. Sessions end only through revocation.
      unset: 'keep',
      cookie: { httpOnly: true, sameSite: 'lax', secure: settings.secureCookie, path: '/', maxAge: settings.absoluteSeconds * 1000 },
    }),
    deps.resolveSession,
  ];
}
