import type { ErrorRequestHandler, Request } from 'express';
import type { Logger } from '../logger.js';
import { HttpError } from './httpError.js';

/**
 * The one place errors become responses: `{error, error_description, fields?}` as JSON, or a short
 * HTML page for a browser navigating the sign-in routes. Unknown errors are logged with their stack
 * and answered with a generic 500; no stack trace or internal message ever leaves.
 */
export function createErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toHttpError(err);
    const reqId = res.locals.requestId as string | undefined;
    if (error.status >= 500) log.error({ reqId, err: error.cause ?? err, code: error.code }, 'request failed');
    else log.info({ reqId, code: error.code, status: error.status }, error.message);
    if (res.headersSent) {
      // A failure after the whole answer went out (express-session reports its end-of-request
      // store calls this way) leaves a healthy keep-alive connection: only a half-sent answer is cut.
      if (!res.writableEnded) res.destroy();
      return;
    }
    res.status(error.status);
    res.set('Cache-Control', 'no-store');
    if (error.headers) res.set(error.headers);
    if (prefersHtml(req)) {
      res.type('html').send(errorPage(error));
      return;
    }
    res.json({
      error: error.code,
      error_description: error.message,
      ...(error.fields ? { fields: error.fields } : {}),
    });
  };
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
  return new HttpError(500, 'server_error', 'An internal error occurred', { cause: err });
}

/** Browsers landing on /auth/* (a failed callback, say) get a page; programs get JSON. */
function prefersHtml(req: Request): boolean {
  return req.method === 'GET' && req.path.startsWith('/auth/') && req.accepts(['json', 'html']) === 'html';
}

function errorPage(error: HttpError): string {
  const escape = (text: string) =>
    text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in problem</title></head>
<body><h1>${error.status === 503 ? 'Please try again shortly' : 'Sign-in did not complete'}</h1>
<p>${escape(error.message)}</p><p><small>${escape(error.code)}</small></p>
<p><a href="/auth/login">Sign in again</a></p></body></html>`;
}
