import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { SessionStore } from '../sessions/sessionStore.js';
import { sessionStatusAnswer, userAnswer } from './accountRoutes.js';
import type { LiveSession, LiveSessionLookup } from '../sessions/liveSession.js';
import type { AccessLog } from './requestLogger.js';
import type { RequestTimer } from './requestMetrics.js';
import type { StaticHeaders } from './staticHeaders.js';

export interface AccountReadRouteDeps {
  /** The session as express-session and the session guard would find it (src/sessions/liveSession.ts). */
  liveSession: LiveSessionLookup;
  /** Its `touch`: the idle-timeout renewal express-session asks for after an unmodified request. */
  store: Pick<SessionStore, 'touch'>;
  /** The same pieces the Express route runs, on Node's own request and response. */
  accessLog: AccessLog;
  timeRequest: RequestTimer;
  /** Origins the `cors` middleware of the `/api` routes allows, with credentials. */
  allowedOrigins: ReadonlySet<string>;
  /** The document security headers (helmet's, as `staticHeaders` replays them on the Express routes). */
  securityHeaders: StaticHeaders['headers'];
}

/** Serves `(req, res)` if it is a request it takes; calls `fallback` (the Express app) otherwise. */
export type AccountReadRoute = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/** The routes served here, each with its body for a live session (the Express routes' own functions). */
const ANSWERS: ReadonlyMap<string, (live: LiveSession) => unknown> = new Map<string, (live: LiveSession) => unknown>([
  ['/api/user', ({ session }: LiveSession) => userAnswer(session)],
  ['/api/session-status', ({ session }: LiveSession) => sessionStatusAnswer(session)],
]);

/**
 * `GET /api/user` and `GET /api/session-status` for a plainly live session, served on Node's own
 * request and response before Express: the reads a single-page app makes all the time. Why: Express
 * and express-session were most of such a request's CPU. Measured (README "Performance", fourth
 * pass): CPU per `GET /api/user` 0.35× of the Express route's in a paired A/B of the built server
 * (685 → 253 µs under load, 7 rounds), req/s 2.59×. Reproduce: `BENCH_PAIRED=1 npx tsx
 * test/bench/abBuilds.ts <checkout without this route, built> . 7 3`.
 *
 * The answer is the Express route's, header for header and in its order (test/http/accountReadRoute.test.ts
 * compares them): `X-Request-Id` and the access line (`createAccessLog`), the duration metric under
 * the route's path (`createRequestTimer`), `Cache-Control: no-store`, what the `cors` middleware
 * gives a simple request (for an allowed origin `Access-Control-Allow-Origin`, `Vary: Origin`,
 * `Access-Control-Allow-Credentials`; for any other origin or none, nothing), helmet's headers,
 * the JSON body with its `Content-Type` and `Content-Length`; no ETag, no cookie. After the answer
 * is decided, `store.touch` renews the idle timeout when due and the response ends once it has
 * answered, as express-session does for an unmodified session.
 *
 * Everything else takes the Express route: another method (HEAD included) or spelling of the path,
 * a conditional request (Express may answer it 304), and any session that is not plainly live (no
 * or a bad cookie, unknown, revoked, Redis failing, a refresh that ended it) — the lookup then cost
 * one round trip that the Express route repeats.
 */
export function createAccountReadRoute(deps: AccountReadRouteDeps): AccountReadRoute {
  const { allowedOrigins, securityHeaders } = deps;
  return (req, res, fallback) => {
    if (req.method !== 'GET') return fallback();
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const answer = ANSWERS.get(path);
    if (!answer || req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined) return fallback();
    const started = performance.now();
    deps.liveSession(req, (live) => {
      deps.accessLog(req, res, path, started);
      deps.timeRequest(req, res, () => path, started);
      const body = JSON.stringify(answer(live));
      const headers: OutgoingHttpHeaders = { 'Cache-Control': 'no-store' };
      const origin = req.headers.origin;
      if (origin !== undefined && allowedOrigins.has(origin)) {
        headers['Access-Control-Allow-Origin'] = origin;
        headers.Vary = 'Origin';
        headers['Access-Control-Allow-Credentials'] = 'true';
      }
      for (const [name, value] of securityHeaders) headers[name] = value as OutgoingHttpHeaders[string];
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = Buffer.byteLength(body);
      deps.store.touch(live.session.sessionId, live.record, () => {
        res.writeHead(200, headers);
        res.end(body);
      });
    }, fallback);
  };
}
