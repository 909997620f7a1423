import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcClient } from '../oidc/oidcClient.js';
import { describeError, type Logger } from '../logger.js';
import { redisKeys } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';
import type { RevokeSessions } from './revokeSessions.js';
import { sessionHandleOf } from './sessionHandle.js';
import type { SessionStore } from './sessionStore.js';
import type { Tombstones } from './tombstones.js';
import { toTokenSet } from './tokenSet.js';
import { userFromClaims } from './userFromClaims.js';

export type RefreshOutcome =
  /** The access token is not near expiry (and no check was forced). */
  | 'fresh'
  | 'refreshed'
  /** The provider refused the grant: the session was revoked (`provider_session_ended`). */
  | 'revoked'
  /** Its tokens were gone from storage (read, not there): the session was revoked (`expired`). */
  | 'tokens_lost'
  /** The session no longer exists. */
  | 'gone'
  /** Another request or replica holds the refresh lock right now. */
  | 'busy'
  /** Nothing to refresh with (no refresh token), or the provider could not be reached: unchanged. */
  | 'unchanged';

export type RefreshTokens = (sessionId: string, options?: { force?: boolean }) => Promise<RefreshOutcome>;

export interface RefreshDeps {
  oidc: OidcClient;
  store: SessionStore;
  tombstones: Tombstones;
  kv: Kv;
  prefix: string;
  revoke: RevokeSessions;
  rolesClaim: string;
  /** Refresh when the access token has less than this left. */
  skewMs: number;
  lockMs: number;
  log: Logger;
  onOutcome?: (outcome: RefreshOutcome) => void;
}

/**
 * Refreshes a session's tokens once across all replicas (a short lock per session). A provider that
 * answers `invalid_grant` has ended the session on its side: we revoke ours. The record is written
 * straight to the store, never through a request's session object, and a revocation that lands
 * while we talk to the provider wins (checked before the write, and by the store after it).
 */
export function createRefreshTokens(deps: RefreshDeps): RefreshTokens {
  const lockKey = redisKeys(deps.prefix).refreshLock;

  const refresh = async (sessionId: string, force: boolean): Promise<RefreshOutcome> => {
    const data = await deps.store.read(sessionId);
    if (!data?.auth) return 'gone';
    const { auth } = data;
    if (!force && auth.tokens.expiresAt - Date.now() > deps.skewMs) return 'fresh';
    const tokens = await deps.store.readTokens(sessionId, auth);
    if (!tokens) {
      // Read, and not there (evicted, lost in a failover): the session can no longer be checked with
      // the provider, so it cannot be kept alive; it ends as its tokens did.
      deps.log.warn({ session: sessionHandleOf(sessionId) }, 'session record without its tokens; ending the session');
      await deps.revoke([sessionId], 'expired');
      return 'tokens_lost';
    }
    if (!tokens.refreshToken) return 'unchanged';

    let response: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      response = await client.refreshTokenGrant(deps.oidc.configuration(), tokens.refreshToken);
    } catch (err) {
      if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant') {
        await deps.revoke([sessionId], 'provider_session_ended');
        return 'revoked';
      }
      deps.log.warn({ err: describeError(err) }, 'token refresh failed; the session stays as it was');
      return 'unchanged';
    }

    auth.tokens = toTokenSet(response, tokens);
    const claims = response.claims();
    if (claims) {
      deps.oidc.observeIssuedAt(claims.iat);
      auth.user = userFromClaims(claims, deps.rolesClaim);
    }
    if (await deps.tombstones.get(sessionId)) return 'revoked';
    return (await deps.store.write(sessionId, data)) === 'revoked' ? 'revoked' : 'refreshed';
  };

  return async (sessionId, options = {}) => {
    const token = randomUUID();
    if (!(await deps.kv.set(lockKey(sessionId), token, deps.lockMs, true))) return 'busy';
    try {
      const outcome = await refresh(sessionId, options.force ?? false);
      deps.onOutcome?.(outcome);
      return outcome;
    } finally {
      await deps.kv.delIfValue(lockKey(sessionId), token).catch(() => undefined);
    }
  };
}
