import type { RequestHandler } from 'express';
import { HttpError, unavailable } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import type { ApplyAdminAction } from './adminActions.js';
import { readBody } from './readBody.js';
import { InvalidAdminAction, type AdminActionKind } from './verifyAdminAction.js';
import { SigningKeysUnavailable } from './jwsChecks.js';

/** An admin action is a few hundred bytes; one naming many sessions stays far below this. */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * `POST <KEYCLOAK_ADMIN_PATH>/k_logout` and `/k_push_not_before`: the body is the bare compact JWS
 * Keycloak posts (`text/plain`). 204 when applied (Keycloak counts 200 and 204 as success); 400
 * `invalid_request` for anything unverified, with nothing changed; 503 when storage or the issuer's
 * keys are unreachable. `Cache-Control: no-store` on every answer. No cookie, CSRF token or CORS.
 */
export function createAdminActionHandler(kind: AdminActionKind, deps: { apply: ApplyAdminAction; metrics: Metrics }): RequestHandler {
  const count = (result: string) => deps.metrics.adminActions.inc({ action: kind, result });
  return async (req, res) => {
    // Cache-Control: no-store is set where the route is mounted (app.ts); Pragma for HTTP/1.0 caches (§2.8).
    res.set('Pragma', 'no-cache');
    try {
      const type = req.headers['content-type'] ?? '';
      if (!/^(text\/plain|application\/jose)\s*(;|$)/i.test(type)) {
        throw new HttpError(400, 'invalid_request', 'The body must be the admin action as a compact JWS (text/plain)');
      }
      // A compact JWS is ASCII: the declared charset (Keycloak says ISO-8859-1) does not matter.
      const token = (await readBody(req, BODY_LIMIT_BYTES)).toString('latin1').trim();
      if (token === '') throw new HttpError(400, 'invalid_request', 'The body is empty; send the admin action');
      const { revoked } = await deps.apply(kind, token);
      count(revoked > 0 ? 'revoked' : 'no_session');
      res.status(204).end();
    } catch (err) {
      if (err instanceof InvalidAdminAction) {
        count('invalid');
        throw new HttpError(400, 'invalid_request', `Invalid admin action: ${err.message}`);
      }
      count(err instanceof HttpError && err.status < 500 ? 'invalid' : 'unavailable');
      if (err instanceof SigningKeysUnavailable) {
        throw unavailable('signing keys', err, "The issuer's signing keys could not be fetched; retry later");
      }
      throw err;
    }
  };
}
