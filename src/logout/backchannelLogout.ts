import type { Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import type { ReplayCache } from './replayCache.js';
import { InvalidLogoutToken, verifyLogoutToken } from './verifyLogoutToken.js';

export type BackchannelLogout = (logoutToken: string) => Promise<{ revoked: number }>;

/**
 * Verifies a logout token, refuses a replayed `jti`, and revokes exactly the sessions it names:
 * with `sid`, that provider session's (and, when `sub` is there too, only those of that user);
 * with `sub` alone, all of that user's sessions at this issuer.
 */
export function createBackchannelLogout(deps: {
  oidc: OidcClient;
  clientId: string;
  algorithm: string;
  clockToleranceSeconds: number;
  replay: ReplayCache;
  index: SessionIndex;
  revoke: RevokeSessions;
  log: Logger;
}): BackchannelLogout {
  let issuer: string | undefined;
  return async (logoutToken) => {
    issuer ??= deps.oidc.configuration().serverMetadata().issuer;
    const claims = await verifyLogoutToken(logoutToken, {
      issuer,
      audience: deps.clientId,
      algorithm: deps.algorithm,
      keys: deps.oidc.signingKeys(),
      clockToleranceSeconds: deps.clockToleranceSeconds,
    });
    const rememberUntil = (claims.exp + deps.clockToleranceSeconds) * 1000;
    if (!(await deps.replay.remember(claims.iss, claims.jti, rememberUntil))) {
      throw new InvalidLogoutToken('this jti was already used (replay)');
    }
    try {
      const sids = await sessionsNamedBy(claims, deps.index);
      return { revoked: await deps.revoke(sids, 'backchannel_logout') };
    } catch (err) {
      // Let the provider's retry through: this token was not processed.
      await deps.replay.forget(claims.iss, claims.jti).catch(() => undefined);
      throw err;
    }
  };
}

async function sessionsNamedBy(
  claims: { iss: string; sid: string | undefined; sub: string | undefined },
  index: SessionIndex,
): Promise<string[]> {
  if (claims.sid === undefined) return index.byUser(claims.iss, claims.sub!);
  const bySid = await index.byProviderSession(claims.iss, claims.sid);
  if (claims.sub === undefined || bySid.length === 0) return bySid;
  const ofUser = new Set(await index.byUser(claims.iss, claims.sub));
  return bySid.filter((sid) => ofUser.has(sid));
}
