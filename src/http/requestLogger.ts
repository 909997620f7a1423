import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

// Query parameters that carry secrets or one-time credentials on our routes.
const SECRET_QUERY = /^(code|state|session_state|id_token_hint|logout_token|access_token|token|iss)$/i;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts the access log of one request on Node's own request and response, for the Express
 * middleware below and for a route served before Express (src/http/backchannelRoute.ts): sets
 * `X-Request-Id` and returns the id. `path` is the request's path (its quiet paths get no line);
 * `startedMs` the request's arrival (`performance.now()`, ms) when the route took it later (default: now).
 */
export type AccessLog = (req: IncomingMessage, res: ServerResponse, path: string, startedMs?: number) => string;

/**
 * Request id (an incoming `X-Request-Id` if it looks like one, else a UUID, echoed back) and one
 * access-log line per request: method, path with secret query values masked, status, duration.
 * Never headers, so never cookies or authorization. Written by hand rather than with pino-http,
 * whose per-request child logger (bindings serialized and redacted on every request) cost more CPU
 * than everything else in a back-channel logout together.
 */
export function createAccessLog(log: Logger): AccessLog {
  // Access lines are built from known-safe fields only; skipping the redaction pass (a walk of
  // every line for each redacted path) takes a tenth off the cost of a back-channel logout.
  const accessLog = log.child({}, { redact: [] });
  return (req, res, path, startedMs) => {
    const requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', requestId);
    if (QUIET_PATHS.has(path) || !log.isLevelEnabled('info')) return requestId;
    const url = req.url ?? '';
    const started = startedMs ?? performance.now();
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      accessLog.info(
        {
          reqId: requestId,
          req: { method: req.method, url: maskUrl(url) },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        res.writableFinished ? 'request completed' : 'request aborted',
      );
    };
    res.on('finish', done);
    res.on('close', done);
    return requestId;
  };
}

/** The access log as the first Express middleware; the request id stays in `res.locals.requestId` for the error handler. */
export function createRequestLogger(log: Logger): RequestHandler {
  const accessLog = createAccessLog(log);
  return (req, res, next) => {
    res.locals.requestId = accessLog(req, res, req.path);
    next();
  };
}

/** The request's id: its `X-Request-Id` if that looks like one, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_QUERY.test(key)) params.set(key, '[Redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}
