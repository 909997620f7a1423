import type { RequestListener } from 'node:http';
import express, { type Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import cors from 'cors';
import { createAuditRouter } from '../audit/auditRoutes.js';
import { createEventStreamRoute } from '../events/eventStreamRoute.js';
import { createAuthRouter } from '../auth/authRoutes.js';
import { createBoardRouter } from '../board/boardRoutes.js';
import type { Services } from '../services.js';
import { createAdminActionHandler } from '../logout/adminActionHandler.js';
import { createBackchannelHandler } from '../logout/backchannelHandler.js';
import { createAccountRouter } from './accountRoutes.js';
import { createCsrfGuard } from './csrf.js';
import { createErrorHandler } from './errorHandler.js';
import { createHealthRouter } from './healthRoutes.js';
import { HttpError } from '../errors.js';
import { staticHeaders } from './staticHeaders.js';
import { createRequestLogger } from './requestLogger.js';
import { createWebRouter } from './webRoutes.js';
import { detachSession, liveSessionOf } from '../sessions/requestSession.js';
import { createSessionGuard } from './sessionGuard.js';

/**
 * The HTTP surface, in execution order: request id and access log, metrics, the back-channel
 * endpoint (rate-limited), Keycloak's admin-URL actions and health checks (no cookie, no CORS), the
 * sign-in rate limits, CORS and the session, the event stream, security headers, the other routes,
 * 404 and the one error handler. In front of it all, the event stream of a plainly live session is
 * served without Express (see eventStreamRoute.ts); every other case of `GET /api/events` takes the
 * Express route below.
 */
/** The app as one request listener, and the Express app behind its event-stream fast path. */
export type App = RequestListener & { express: Express };

export function createApp(services: Services): App {
  const { config, log, metrics } = services;
  const csrf = createCsrfGuard(config.allowedOrigins);
  const guard = createSessionGuard({
    refresh: services.refresh,
    revoke: services.revoke,
    handleOf: services.handleOf,
    skewMs: config.session.refreshSkewSeconds * 1000,
  });
  const allowed = new Set(config.allowedOrigins);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);

  app.use(createRequestLogger(log));
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpDuration.observe(
        { method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  });
  // Machine-to-machine endpoints first: no browser reads their answers, so no security headers;
  // the provider's logout POSTs then skip every layer they do not need.
  app
    .route('/auth/backchannel-logout')
    .post(services.rateLimits.backchannel, createBackchannelHandler({ logout: services.backchannelLogout, metrics }))
    .all((req, _res, next) => next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; POST a logout_token`, { headers: { Allow: 'POST' } })));
  for (const [action, kind] of [['k_logout', 'LOGOUT'], ['k_push_not_before', 'PUSH_NOT_BEFORE']] as const) {
    app
      .route(`${config.oidc.keycloakAdminPath}/${action}`)
      .post(createAdminActionHandler(kind, { apply: services.adminActions, metrics }))
      .all((req, _res, next) => next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; POST the admin action`, { headers: { Allow: 'POST' } })));
  }
  app.use(createHealthRouter({ checks: services.readinessChecks, metrics, timeoutMs: 2000 }));
  // Counted before the session is loaded: a flood costs one Redis command per request, not three.
  app.get('/auth/login', services.rateLimits.login);
  app.get('/auth/callback', services.rateLimits.callback);

  app.use(
    ['/auth', '/api'],
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Content-Type', 'X-CSRF', 'X-Request-Id', 'Last-Event-ID'],
      maxAge: 600,
    }),
    session({
      name: config.session.cookieName,
      secret: config.session.secrets,
      store: services.store,
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
      cookie: { httpOnly: true, sameSite: 'lax', secure: config.session.secureCookie, path: '/', maxAge: config.session.absoluteSeconds * 1000 },
    }),
    guard.resolveSession,
  );

  // The event stream comes before the document security headers: a stream is never rendered, and
  // helmet's dozen headers, held by each of thousands of long-lived responses, cost ~3.5 KB apiece.
  // HEAD gets the stream's headers and no stream: Node sends nothing for a HEAD until the response
  // ends, so a stream opened for one would hold a subscription for a client that never reads.
  app.head('/api/events', guard.requireSession, (_req, res) => {
    res.status(200).type('text/event-stream').set('Cache-Control', 'no-store').end();
  });
  app.get('/api/events', guard.requireSession, async (req, res) => {
    const { sid, handle, auth } = liveSessionOf(res);
    // A stream lives for hours: let go of the session record (tokens included) it no longer needs.
    detachSession(req, res);
    await services.sse.open(req, res, { sid, handle, issuer: auth.issuer, sub: auth.sub });
  });
  app.use(staticHeaders(helmet({ crossOriginResourcePolicy: { policy: 'same-site' } })));

  app.use(
    createAuthRouter({
      config,
      oidc: services.oidc,
      sealer: services.sealer,
      store: services.store,
      index: services.index,
      schedule: services.schedule,
      revoke: services.revoke,
      csrf,
      provisionUser: services.provisionUser,
      log,
    }),
  );
  app.use(
    createAccountRouter({
      guard,
      csrf,
      store: services.store,
      index: services.index,
      revoke: services.revoke,
      handleOf: services.handleOf,
      moderatorRole: config.board.moderatorRole,
    }),
  );
  app.use(createAuditRouter({ audit: services.audit, requireSession: guard.requireSession, moderatorRole: config.board.moderatorRole }));
  app.use(createBoardRouter({ service: services.board.service, requireSession: guard.requireSession, requireCsrf: csrf.requireCsrf }));
  app.use(createWebRouter(config.webDir));

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)));
  app.use(createErrorHandler(log));

  const events = createEventStreamRoute({
    cookieName: config.session.cookieName,
    secrets: config.session.secrets,
    store: services.store,
    hub: services.sse,
    handleOf: services.handleOf,
    resolveSession: guard.resolveSession,
    allowedOrigins: allowed,
  });
  const listener: RequestListener = (req, res) => events(req, res, () => app(req, res));
  return Object.assign(listener, { express: app });
}
