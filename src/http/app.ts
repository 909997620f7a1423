import type { RequestListener } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import proxyaddr from 'proxy-addr';
import { createAuditRouter } from '../audit/auditRoutes.js';
import { createAuthRouter } from '../auth/authRoutes.js';
import { createBoardRouter } from '../board/boardRoutes.js';
import { HttpError } from '../errors.js';
import { createEventStreamRoute, createEventStreamRouter } from '../events/eventStreamRoute.js';
import { createAdminActionHandler } from '../backchannel/adminActionHandler.js';
import { createBackchannelHandler } from '../backchannel/backchannelHandler.js';
import type { Services } from '../services.js';
import { createLiveSessionLookup } from '../sessions/liveSession.js';
import { createAccountReadRoute } from './accountReadRoute.js';
import { createAccountRouter } from './accountRoutes.js';
import { BACKCHANNEL_PATH, createBackchannelRoute } from './backchannelRoute.js';
import { createBrowserSession } from './browserSession.js';
import { createCsrfGuard } from './csrf.js';
import { createErrorHandler, createErrorResponder } from './errorHandler.js';
import { createHealthRouter } from './healthRoutes.js';
import { noStore } from './noStore.js';
import { createAccessLog, createRequestLogger, requestIdOf } from './requestLogger.js';
import { createRequestMetrics, createRequestTimer } from './requestMetrics.js';
import { createSessionGuard } from './sessionGuard.js';
import { staticHeaders } from './staticHeaders.js';
import { createWebRouter } from './webRoutes.js';

/** The app as one request listener, and the Express app behind its fast paths. */
export type App = RequestListener & { express: Express };

/**
 * The HTTP surface, in execution order: request id and access log, metrics, the back-channel
 * endpoint (rate-limited), Keycloak's admin-URL actions and health checks (no cookie, no CORS), the
 * sign-in rate limits, `no-store` plus CORS and the session for the browser routes, the event
 * stream, security headers, the other routes, 404 and the one error handler. In front of it all,
 * three routes are served without Express: `POST /auth/backchannel-logout` (backchannelRoute.ts, the
 * same pieces as its Express route; other methods and spellings take the Express route), and, for a
 * plainly live session (sessions/liveSession.ts: the cookie, the record and the session guard's decision),
 * the event stream (eventStreamRoute.ts) and `GET /api/user` / `GET /api/session-status`
 * (accountReadRoute.ts, the Express routes' answer header for header). Every other case of those
 * paths takes the Express route.
 */
export function createApp(services: Services): App {
  const { config, log, metrics } = services;
  const csrf = createCsrfGuard(config.allowedOrigins);
  const guard = createSessionGuard({
    refresh: services.refresh,
    revoke: services.revoke,
    skewMs: config.session.refreshSkewSeconds * 1000,
  });
  const allowedOrigins = new Set(config.allowedOrigins);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);

  const backchannel = createBackchannelHandler({ logout: services.backchannelLogout, limit: services.rateLimits.backchannelGate, metrics });

  app.use(createRequestLogger(log));
  app.use(createRequestMetrics(metrics));
  // Machine-to-machine endpoints first: no browser reads their answers, so no security headers;
  // the provider's logout POSTs then skip every layer they do not need. (The plain case of this
  // route is served before Express, by backchannelRoute below, with these same pieces.)
  app
    .route(BACKCHANNEL_PATH)
    .post(noStore, (req, res) => backchannel(req, res, req.ip))
    .all(onlyPost('POST a logout_token'));
  for (const [action, kind] of [['k_logout', 'LOGOUT'], ['k_push_not_before', 'PUSH_NOT_BEFORE']] as const) {
    app
      .route(`${config.oidc.keycloakAdminPath}/${action}`)
      .post(noStore, createAdminActionHandler(kind, { apply: services.adminActions, metrics }))
      .all(onlyPost('POST the admin action'));
  }
  app.use(createHealthRouter({ checks: services.readinessChecks, metrics, timeoutMs: 2000 }));
  // Counted before the session is loaded: a flood costs one Redis command per request, not three.
  app.get('/auth/login', services.rateLimits.login);
  app.get('/auth/callback', services.rateLimits.callback);

  app.use(
    ['/auth', '/api'],
    noStore,
    createBrowserSession({ allowedOrigins, session: config.session, store: services.store, resolveSession: guard.resolveSession }),
  );
  app.use(createEventStreamRouter({ requireSession: guard.requireSession, hub: services.sse }));
  const securityHeaders = staticHeaders(helmet({ crossOriginResourcePolicy: { policy: 'same-site' } }));
  app.use(securityHeaders);

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
        moderatorRole: config.board.moderatorRole,
    }),
  );
  app.use(createAuditRouter({ audit: services.audit, requireSession: guard.requireSession, moderatorRole: config.board.moderatorRole }));
  app.use(createBoardRouter({ service: services.board.service, requireSession: guard.requireSession, requireCsrf: csrf.requireCsrf }));
  // A page load is the hint that the board comes next: its embedded database starts while the person signs in.
  app.use(createWebRouter(config.webDir, services.board.warm));

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)));
  app.use(createErrorHandler(log));

  const liveSession = createLiveSessionLookup({
    cookieName: config.session.cookieName,
    secrets: config.session.secrets,
    store: services.store,
    resolveSession: guard.resolveSession,
  });
  const eventStream = createEventStreamRoute({ liveSession, hub: services.sse, allowedOrigins, requestIdOf });
  const accessLog = createAccessLog(log);
  const timeRequest = createRequestTimer(metrics);
  const accountRead = createAccountReadRoute({
    liveSession,
    store: services.store,
    accessLog,
    timeRequest,
    allowedOrigins,
    securityHeaders: securityHeaders.headers,
  });
  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const backchannelRoute = createBackchannelRoute({
    accessLog,
    timeRequest,
    handle: backchannel,
    respondError: createErrorResponder(log),
    // What Express's req.ip getter returns.
    clientIp: (req) => proxyaddr(req, trust),
  });
  const listener: RequestListener = (req, res) =>
    backchannelRoute(req, res, () => eventStream(req, res, () => accountRead(req, res, () => app(req, res))));
  return Object.assign(listener, { express: app });
}

/** 405 with `Allow: POST` for any other method on a POST-only endpoint. */
function onlyPost(hint: string): RequestHandler {
  return (req, _res, next) =>
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; ${hint}`, { headers: { Allow: 'POST' } }));
}
