import { describeError, type Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import type { ReplayCache } from './replayCache.js';
import type { UserRecheck } from './userRecheck.js';
import { InvalidLogoutToken, verifyLogoutToken } from './verifyLogoutToken.js';

export type BackchannelLogout = (logoutToken: string) => Promise<{ revoked: number }>;

/**
 * Verifies a logout token, refuses a `jti` already processed, and revokes exactly the sessions it
 * names: with `sid`, that provider session's (and, when `sub` is there too, only those of that
 * user); with `sub` alone, all of that user's sessions at this issuer. The `jti` is remembered only
 * once the revocation succeeded (see ReplayCache), so a token answered 503 can be retried. A token
 * naming both `sid` and `sub` has the user's other sessions re-checked with the provider (UserRecheck).
 */
export function createBackchannelLogout(deps: {
  oidc: OidcClient;
  clientId: string;
  algorithm: string;
  clockToleranceSeconds: number;
  replay: ReplayCache;
  index: SessionIndex;
  revoke: RevokeSessions;
  /** A token naming `sub` makes that user's remaining sessions be checked with the provider. */
  recheck: UserRecheck;
  log: Logger;
}): BackchannelLogout {
  return async (logoutToken) => {
    const claims = await verifyLogoutToken(logoutToken, {
      issuer: deps.oidc.issuer(),
      audience: deps.clientId,
      algorithm: deps.algorithm,
      keys: deps.oidc.signingKeys(),
      clockToleranceSeconds: deps.clockToleranceSeconds,
      onIssuedAt: deps.oidc.observeIssuedAt,
    });
    // The replay check and the index lookups are independent reads: one round trip, not up to three.
    const [seen, named] = await Promise.all([deps.replay.seen(claims.iss, claims.jti), sessionsNamedBy(claims, deps.index)]);
    if (seen) throw new InvalidLogoutToken('this jti was already used (replay)');
    const revoked = await deps.revoke(named, 'backchannel_logout');
    // The sessions are dead whatever happens next: a lost marker weakens replay protection for
    // this one token, it must not turn a done logout into a 503 the provider would retry.
    await deps.replay
      .remember(claims.iss, claims.jti, (claims.exp + deps.clockToleranceSeconds) * 1000)
      .catch((err: unknown) => deps.log.warn({ err: describeError(err) }, 'logout token processed but its jti could not be recorded'));
    if (claims.sub !== undefined && claims.providerSid !== undefined) deps.recheck.schedule(claims.iss, claims.sub);
    return { revoked };
  };
}

async function sessionsNamedBy(
  claims: { iss: string; providerSid: string | undefined; sub: string | undefined },
  index: SessionIndex,
): Promise<string[]> {
  if (claims.providerSid === undefined) return index.byUser(claims.iss, claims.sub!);
  if (claims.sub === undefined) return index.byProviderSession(claims.iss, claims.providerSid);
  const [ofProviderSession, ofUser] = await Promise.all([index.byProviderSession(claims.iss, claims.providerSid), index.byUser(claims.iss, claims.sub)]);
  const users = new Set(ofUser);
  return ofProviderSession.filter((sessionId) => users.has(sessionId));
}
