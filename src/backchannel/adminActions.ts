import { describeError, type Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { ProviderSessionEnds } from '../sessions/providerSessionEnds.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import type { SessionStore } from '../sessions/sessionStore.js';
import { sessionIssuedAt } from '../sessions/sessionIssuedAt.js';
import type { IssuerNotBefore } from './notBefore.js';
import type { ReplayCache } from './replayCache.js';
import { InvalidAdminAction, verifyAdminAction, type AdminActionKind } from './verifyAdminAction.js';

/** Verifies and applies one Keycloak admin action (the raw JWS body); resolves with the sessions revoked. */
export type ApplyAdminAction = (kind: AdminActionKind, token: string) => Promise<{ revoked: number }>;

/** Sessions looked at by one not-before sweep; far above what one deployment holds. */
const MAX_SWEPT_SESSIONS = 200_000;

/**
 * Keycloak's admin-URL actions, `LOGOUT` (realm "Sign out all active sessions": `notBefore` = now;
 * or given sessions in `keycloakSessionIds`) and `PUSH_NOT_BEFORE` ("Revocation → Push"):
 *  1. verify strictly (verifyAdminAction) and refuse an `id` already processed;
 *  2. raise the issuer-wide not-before first, so that whatever the sweep misses (or a failure
 *     half-way) is refused when next loaded;
 *  3. revoke, as `backchannel_logout`, the named sessions and every session of this issuer whose
 *     tokens were issued before `notBefore` — on every replica, streams told; a named provider
 *     session's end is recorded before its index is read, as for a logout token naming `sid`
 *     (BackchannelLogout), dated `expiration` (the action carries no `iat`; an ended Keycloak
 *     session id does not come back);
 *  4. remember the `id` only then (as for logout tokens: a 503 can be retried).
 */
export function createAdminActions(deps: {
  oidc: OidcClient;
  clientId: string;
  algorithm: string;
  clockToleranceSeconds: number;
  replay: ReplayCache;
  notBefore: IssuerNotBefore;
  index: SessionIndex;
  ends: ProviderSessionEnds;
  store: SessionStore;
  revoke: RevokeSessions;
  log: Logger;
  concurrency?: number;
}): ApplyAdminAction {
  const concurrency = deps.concurrency ?? 32;
  /** Sessions of `iss` whose tokens were issued before `notBefore` (epoch s), or in that second too when `sameSecond`. */
  const issuedBefore = async (iss: string, notBefore: number, sameSecond: boolean): Promise<string[]> => {
    const sessionIds = await deps.index.all(MAX_SWEPT_SESSIONS);
    const doomed: string[] = [];
    for (let i = 0; i < sessionIds.length; i += concurrency) {
      const batch = sessionIds.slice(i, i + concurrency);
      const records = await Promise.all(batch.map((sessionId) => deps.store.read(sessionId)));
      records.forEach((data, j) => {
        const auth = data?.auth;
        const issuedAt = auth ? sessionIssuedAt(auth) : Infinity;
        if (auth && auth.issuer === iss && (issuedAt < notBefore || (sameSecond && issuedAt === notBefore))) doomed.push(batch[j]!);
      });
    }
    return doomed;
  };

  return async (kind, token) => {
    const issuer = deps.oidc.issuer();
    const action = await verifyAdminAction(token, {
      clientId: deps.clientId,
      algorithm: deps.algorithm,
      keys: deps.oidc.signingKeys(),
      expectedAction: kind,
      clockToleranceSeconds: deps.clockToleranceSeconds,
    });
    if (await deps.replay.seen(issuer, action.id)) throw new InvalidAdminAction('this id was already used (replay)');

    // Each end is issued before the index read behind it (one round trip; Redis runs them in order).
    const ended = action.keycloakSessionIds.map((providerSid) => deps.ends.record(issuer, providerSid, action.expiration));
    const named = action.keycloakSessionIds.map((providerSid) => deps.index.byProviderSession(issuer, providerSid));
    const [, ofProviderSessions] = await Promise.all([Promise.all(ended), Promise.all(named)]);
    const sessionIds = ofProviderSessions.flat();
    if (action.notBefore > 0) {
      await deps.notBefore.raise(issuer, action.notBefore);
      // A LOGOUT (realm "Sign out all active sessions") ended every provider session that existed when
      // it was sent, those signed in during that same second included (its notBefore has whole-second
      // resolution); a PUSH_NOT_BEFORE voids only tokens older than its second, as Keycloak does.
      sessionIds.push(...(await issuedBefore(issuer, action.notBefore, kind === 'LOGOUT')));
    }
    const revoked = await deps.revoke(sessionIds, 'backchannel_logout');
    await deps.replay
      .remember(issuer, action.id, (action.expiration + deps.clockToleranceSeconds) * 1000)
      .catch((err: unknown) => deps.log.warn({ err: describeError(err) }, 'admin action applied but its id could not be recorded'));
    deps.log.info({ action: kind, notBefore: action.notBefore, namedSessions: action.keycloakSessionIds.length, revoked }, 'Keycloak admin action applied');
    return { revoked };
  };
}
