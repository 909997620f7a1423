import type { ServerResponse } from 'node:http';
import escapeHtml from 'escape-html';
import type { ErrorRequestHandler, Request } from 'express';
import { describeError, type Logger } from '../logger.js';
import { HttpError } from '../errors.js';

const INTERNAL_ERROR = 'An internal error occurred';

/**
 * Answers `err` on Node's own response: what the Express error handler below does, for a route
 * served before Express (src/http/backchannelRoute.ts). `requestId` goes into the log line; `html`
 * asks for the HTML page instead of JSON.
 */
export type ErrorResponder = (err: unknown, res: ServerResponse, context: { requestId: string | undefined; html: boolean }) => void;

/**
 * The one place errors become responses: `{error, error_description, fields?}` as JSON, or a short
 * HTML page for a browser navigating the sign-in routes. Only an `expose`d HttpError shows its code
 * and message; anything else (an HttpError not exposed, an unknown error) is answered as a generic
 * `server_error`. Server-side failures are logged through describeError (name, message, code: never
 * a library's attached command or body); no stack trace or internal message ever leaves.
 * Written on Node's response (what Express's `res.json` and `res.send` would send), so that a
 * route served before Express answers through this same code.
 */
export function createErrorResponder(log: Logger): ErrorResponder {
  return (err, res, { requestId, html }) => {
    const failure = toHttpError(err);
    if (failure.status >= 500) log.error({ reqId: requestId, err: describeError(failure.cause ?? err), code: failure.code }, 'request failed');
    else log.info({ reqId: requestId, code: failure.code, status: failure.status }, failure.message);
    const error = failure.expose ? failure : new HttpError(failure.status, 'server_error', INTERNAL_ERROR);
    if (res.headersSent) {
      // A failure after the whole answer went out (express-session reports its end-of-request
      // store calls this way) leaves a healthy keep-alive connection: only a half-sent answer is cut.
      if (!res.writableEnded) res.destroy();
      return;
    }
    res.statusCode = error.status;
    // Errors are answers of the moment, whichever route failed: never cached.
    res.setHeader('Cache-Control', 'no-store');
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    if (html) {
      send(res, 'text/html; charset=utf-8', errorPage(error));
      return;
    }
    send(
      res,
      'application/json; charset=utf-8',
      JSON.stringify({
        error: error.code,
        error_description: error.message,
        ...(error.fields ? { fields: error.fields } : {}),
      }),
    );
  };
}

/** The error responder as Express's error handler: the request id from the access log, HTML for a browser's sign-in navigation. */
export function createErrorHandler(log: Logger): ErrorRequestHandler {
  const respond = createErrorResponder(log);
  return (err, req, res, _next) => respond(err, res, { requestId: res.locals.requestId as string | undefined, html: prefersHtml(req) });
}

/** A whole body of `type`; Node sends no body for a HEAD request. */
function send(res: ServerResponse, type: string, body: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'The request body is larger than this endpoint accepts');
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_request', 'The request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'The request body encoding or charset is not supported');
    case 'parameters.too.many':
      return new HttpError(400, 'invalid_request', 'The request body has too many parameters');
  }
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'invalid_request', 'The request could not be processed');
  }
  return new HttpError(500, 'server_error', INTERNAL_ERROR, { cause: err });
}

/** Browsers landing on /auth/* (a failed callback, say) get a page; programs get JSON. */
function prefersHtml(req: Request): boolean {
  return req.method === 'GET' && req.path.startsWith('/auth/') && req.accepts(['json', 'html']) === 'html';
}

function errorPage(error: HttpError): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in problem</title></head>
<body><h1>${error.status === 503 ? 'Please try again shortly' : 'Sign-in did not complete'}</h1>
<p>${escapeHtml(error.message)}</p><p><small>${escapeHtml(error.code)}</small></p>
<p><a href="/auth/login">Sign in again</a></p></body></html>`;
}
