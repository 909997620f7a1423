import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Metrics } from './metrics.js';

/**
 * Observes one request's duration once it is answered, labelled by method, `route()` (read then)
 * and status: on Node's own request and response, for the Express middleware below and for a
 * route served before Express (src/http/backchannelRoute.ts). `startedMs`: the request's arrival
 * (`performance.now()`, ms) when the route took it later (default: now).
 */
export type RequestTimer = (req: IncomingMessage, res: ServerResponse, route: () => string, startedMs?: number) => void;

export function createRequestTimer(metrics: Metrics): RequestTimer {
  return (req, res, route, startedMs) => {
    const started = startedMs ?? performance.now();
    res.on('finish', () => {
      metrics.httpDuration.observe(
        { method: req.method, route: route(), status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
  };
}

/** The request timer as Express middleware, labelled by the matched route (`unmatched` for none). */
export function createRequestMetrics(metrics: Metrics): RequestHandler {
  const time = createRequestTimer(metrics);
  return (req, res, next) => {
    time(req, res, () => `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? 'unmatched'}`);
    next();
  };
}
