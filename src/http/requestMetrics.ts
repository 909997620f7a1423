import type { RequestHandler } from 'express';
import type { Metrics } from './metrics.js';

/** Observes each request's duration once it is answered, labelled by method, matched route and status. */
export function createRequestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpDuration.observe(
        { method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  };
}
