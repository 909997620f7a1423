import express, { Router } from 'express';
import { HttpError } from '../http/httpError.js';
import type { Metrics } from '../http/metrics.js';
import type { BackchannelLogout } from './backchannelLogout.js';
import { InvalidLogoutToken, SigningKeysUnavailable } from './verifyLogoutToken.js';

/**
 * `POST /auth/backchannel-logout` (Back-Channel Logout 1.0 §2.5, §2.8): a form with exactly one
 * `logout_token`; 200 when the token is valid, whether or not a session matched; 400
 * `invalid_request` otherwise; 503 when storage or the issuer's keys are unreachable, which the
 * provider may retry. `Cache-Control: no-store` on every answer. No cookie, CSRF token or CORS.
 */
export function createBackchannelRouter(deps: { logout: BackchannelLogout; metrics: Metrics }): Router {
  const router = Router();
  const invalid = (description: string) => new HttpError(400, 'invalid_request', description);

  router.post(
    '/auth/backchannel-logout',
    (req, res, next) => {
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      if (req.is('application/x-www-form-urlencoded')) return next();
      deps.metrics.backchannel.inc({ result: 'invalid' });
      next(invalid('The body must be application/x-www-form-urlencoded'));
    },
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 }),
    async (req, res) => {
      const token: unknown = (req.body as Record<string, unknown> | undefined)?.logout_token;
      if (typeof token !== 'string' || token === '') {
        deps.metrics.backchannel.inc({ result: 'invalid' });
        throw invalid(Array.isArray(token) ? 'Send exactly one logout_token' : 'The logout_token parameter is required');
      }
      try {
        const { revoked } = await deps.logout(token);
        deps.metrics.backchannel.inc({ result: revoked > 0 ? 'revoked' : 'no_session' });
        res.status(200).end();
      } catch (err) {
        if (err instanceof InvalidLogoutToken) {
          deps.metrics.backchannel.inc({ result: 'invalid' });
          throw invalid(`Invalid logout_token: ${err.message}`);
        }
        deps.metrics.backchannel.inc({ result: 'unavailable' });
        if (err instanceof SigningKeysUnavailable) {
          throw new HttpError(503, 'temporarily_unavailable', err.message, { cause: err, headers: { 'Retry-After': '5' } });
        }
        throw err;
      }
    },
  );
  return router;
}
