import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, unavailable } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimits } from '../http/rateLimit.js';
import type { BackchannelLogout } from './backchannelLogout.js';
import { readForm } from './readForm.js';
import { SigningKeysUnavailable } from './jwsChecks.js';
import { InvalidLogoutToken } from './verifyLogoutToken.js';

/** A logout token is about 1 KB; Keycloak's with many claims stays far below this. */
const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Answers one back-channel logout on Node's own request and response: resolves once the 200 is
 * sent, rejects with the HttpError to answer (the error handler serializes it). `ip` is the
 * client's address as Express's `req.ip` gives it (TRUST_PROXY applied), for the rate limit.
 * Mounted as the Express route's handler and called by the route served before Express
 * (src/http/backchannelRoute.ts).
 */
export type BackchannelHandler = (req: IncomingMessage, res: ServerResponse, ip: string | undefined) => Promise<void>;

/**
 * `POST /auth/backchannel-logout` (Back-Channel Logout 1.0 §2.5, §2.8): a form with exactly one
 * `logout_token`; 200 when the token is valid, whether or not a session matched; 400
 * `invalid_request` otherwise; 429 from an address past the refused-tokens limit, whatever it
 * sent; 503 when storage or the issuer's keys are unreachable, which the provider may retry.
 * `Cache-Control: no-store` on every answer. No cookie, CSRF token or CORS.
 *
 * The limit's read is sent at once and the form read meanwhile; its verdict comes before any other
 * answer and before the token's signature is verified (BackchannelLogout).
 */
export function createBackchannelHandler(deps: { logout: BackchannelLogout; limit: RateLimits['backchannelGate']; metrics: Metrics }): BackchannelHandler {
  const invalid = (description: string) => new HttpError(400, 'invalid_request', description);

  const count = (result: string) => deps.metrics.backchannel.inc({ result });

  return async (req, res, ip) => {
    // Cache-Control: no-store is set where the route is mounted; Pragma for HTTP/1.0 caches (§2.8).
    res.setHeader('Pragma', 'no-cache');
    const admitted = deps.limit(ip, res);
    // A refusal is answered by whichever step awaits the verdict first (always one: below, or the logout's).
    admitted.catch(() => undefined);
    let tokens: string[];
    try {
      tokens = (await readForm(req, BODY_LIMIT_BYTES)).getAll('logout_token');
    } catch (err) {
      await admitted;
      count('invalid');
      throw err;
    }
    if (tokens.length !== 1 || tokens[0] === '') {
      await admitted;
      count('invalid');
      throw invalid(tokens.length > 1 ? 'Send exactly one logout_token' : 'The logout_token parameter is required');
    }
    try {
      const { revoked } = await deps.logout(tokens[0]!, admitted);
      count(revoked > 0 ? 'revoked' : 'no_session');
      res.statusCode = 200;
      res.end();
    } catch (err) {
      // The rate limit's refusal is no result of a token.
      if (err instanceof HttpError && err.status === 429) throw err;
      if (err instanceof InvalidLogoutToken) {
        count('invalid');
        throw invalid(`Invalid logout_token: ${err.message}`);
      }
      count('unavailable');
      if (err instanceof SigningKeysUnavailable) {
        throw unavailable('signing keys', err, "The issuer's signing keys could not be fetched; retry later");
      }
      throw err;
    }
  };
}
