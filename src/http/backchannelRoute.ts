import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackchannelHandler } from '../backchannel/backchannelHandler.js';
import type { ErrorResponder } from './errorHandler.js';
import { noStore } from './noStore.js';
import type { AccessLog } from './requestLogger.js';
import type { RequestTimer } from './requestMetrics.js';

export const BACKCHANNEL_PATH = '/auth/backchannel-logout';

export interface BackchannelRouteDeps {
  /** The same pieces the Express route runs, each written on Node's own request and response. */
  accessLog: AccessLog;
  timeRequest: RequestTimer;
  /** The endpoint's handler, refused-tokens rate limit included. */
  handle: BackchannelHandler;
  respondError: ErrorResponder;
  /** The client's address exactly as Express's `req.ip` computes it (its `trust proxy` setting). */
  clientIp: (req: IncomingMessage) => string | undefined;
}

/** Serves `(req, res)` if it is a request it takes; calls `fallback` (the Express app) otherwise. */
export type BackchannelRoute = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/**
 * `POST /auth/backchannel-logout` served on Node's own request and response, before Express, as a
 * logout storm takes it. Why: Express was the largest cost of a logout token after its verification
 * (each request and response given Express's prototypes, the router's walk, its promise handling).
 * Measured (README "Performance", third pass): CPU per valid token 0.71× and 0.69× of the Express
 * route's in two paired A/B runs of the built server, 7 rounds each (597 → 423 µs, 765 → 536 µs),
 * tokens/s 1.42× and 1.34×. Reproduce: `BENCH_PAIRED=1 npx tsx test/bench/abBuilds.ts <checkout
 * without this route, built> . 7 3`.
 *
 * The same code answers as on the Express route (app.ts), in the same order: access log and
 * `X-Request-Id`, duration metric (labelled with the route's path), `Cache-Control: no-store`, the
 * handler (`Pragma`, the refused-tokens rate limit — 429 before the token is verified —, the one
 * form reader, the one-token rule, result counts), and the one error serializer for every refusal
 * (400, 413, 415, 429, 503 with `Retry-After`). Only the exact path and POST come here: any other
 * method (405 with `Allow`), a query string, another spelling of the path fall back to Express.
 */
export function createBackchannelRoute(deps: BackchannelRouteDeps): BackchannelRoute {
  const route = () => BACKCHANNEL_PATH;
  return (req, res, fallback) => {
    if (req.method !== 'POST' || req.url !== BACKCHANNEL_PATH) return fallback();
    const requestId = deps.accessLog(req, res, BACKCHANNEL_PATH);
    deps.timeRequest(req, res, route);
    noStore(req, res, () => {
      deps.handle(req, res, deps.clientIp(req)).catch((err: unknown) => deps.respondError(err, res, { requestId, html: false }));
    });
  };
}
