import type { Request, RequestHandler } from 'express';
import { HttpError } from '../errors.js';

export interface CsrfGuard {
  /** Refuses a request whose Origin is foreign, or that a browser marks as cross-site. */
  checkOrigin: RequestHandler;
  /** For state-changing cookie-authenticated routes: the Origin check plus the `X-CSRF` header. */
  requireCsrf: RequestHandler;
}

/**
 * CSRF defence in two layers. A cross-site page cannot send a custom header without a CORS
 * preflight, which only allowed origins pass; and browsers name the requesting origin (Origin, or
 * Sec-Fetch-Site), which must be one of ours.
 */
export function createCsrfGuard(allowedOrigins: readonly string[]): CsrfGuard {
  const allowed = new Set(allowedOrigins);
  const originProblem = (req: Request): string | undefined => {
    const origin = req.get('origin');
    if (origin !== undefined) return allowed.has(origin) ? undefined : `Origin ${origin} is not allowed`;
    if (req.get('sec-fetch-site') === 'cross-site') return 'Cross-site requests are not allowed';
    return undefined;
  };
  const refuse = (reason: string) => new HttpError(403, 'csrf_rejected', reason);

  return {
    checkOrigin(req, _res, next) {
      const problem = originProblem(req);
      next(problem ? refuse(problem) : undefined);
    },
    requireCsrf(req, _res, next) {
      const problem = originProblem(req) ?? (req.get('x-csrf') ? undefined : 'The X-CSRF header is required');
      next(problem ? refuse(problem) : undefined);
    },
  };
}
