import { describeError, type Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import type { ProviderSessionEnds } from '../sessions/providerSessionEnds.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import { decodeCompactJws } from './compactJws.js';
import type { ReplayCache } from './replayCache.js';
import type { UserRecheck } from './userRecheck.js';
import { InvalidLogoutToken, verifyLogoutToken, type LogoutClaims } from './verifyLogoutToken.js';

/**
 * Processes one logout token. `admitted` is the rate limit's verdict (resolves to go on, rejects
 * with the refusal): the token's signature is verified only once it has resolved.
 */
export type BackchannelLogout = (logoutToken: string, admitted?: Promise<void>) => Promise<{ revoked: number }>;

/** What a token names, as far as the reads go: its `jti` (replay marker) and the index lookups. */
type Named = Pick<LogoutClaims, 'iss' | 'jti' | 'sub' | 'providerSid'>;

/** The reads sent before verification: the `jti`'s marker, and the user's index for a token without `sid`. */
interface EarlyReads {
  of: Named;
  seen: Promise<boolean>;
  named: Promise<string[]> | undefined;
}

/**
 * Verifies a logout token, refuses a `jti` already processed, and revokes exactly the sessions it
 * names: with `sid`, that provider session's (and, when `sub` is there too, only those of that
 * user); with `sub` alone, all of that user's sessions at this issuer. The `jti` is remembered only
 * once the revocation succeeded (see ReplayCache), so a token answered 503 can be retried. A token
 * naming both `sid` and `sub` has the user's other sessions re-checked with the provider (UserRecheck).
 *
 * A token naming `sid` has the provider session's end recorded (ProviderSessionEnds) once it has
 * verified, and its index read only after that write (sent together: one round trip, the write
 * first, which Redis runs in that order, also on Cluster where the two keys share a slot). A
 * callback still holding tokens of that provider session then either has its session in the index
 * by the time it is read, or finds the end when it saves the session: the logout cannot miss it.
 *
 * The replay check, and the index lookup of a token naming only `sub`, are sent before the
 * signature is verified, named by the token's claims as sent (unverified), in the round trip of the
 * rate limit's read (both go out in the same tick; ioredis auto-pipelines them into one write):
 * reads only, used only when the verified claims name exactly the same keys (else read again), and
 * every decision is taken on the verified token. Measured (README "Performance", fourth pass): one
 * round trip less before the answer (3 → 2 per token naming only `sub`; 3 per token naming `sid`),
 * CPU per token 0.95× and tokens/s 1.18× of the build before it (paired A/B, 7 rounds; reproduce:
 * `BENCH_PAIRED=1 npx tsx test/bench/abBuilds.ts <checkout before, built> . 7 3`).
 */
export function createBackchannelLogout(deps: {
  oidc: OidcClient;
  clientId: string;
  algorithm: string;
  clockToleranceSeconds: number;
  replay: ReplayCache;
  index: SessionIndex;
  ends: ProviderSessionEnds;
  revoke: RevokeSessions;
  /** A token naming `sub` makes that user's remaining sessions be checked with the provider. */
  recheck: UserRecheck;
  log: Logger;
}): BackchannelLogout {
  const readEarly = (of: Named): EarlyReads => ({
    of,
    seen: deps.replay.seen(of.iss, of.jti),
    named: of.providerSid === undefined ? deps.index.byUser(of.iss, of.sub!) : undefined,
  });

  return async (logoutToken, admitted) => {
    const decoded = decodeCompactJws(logoutToken);
    const early = decoded && namedBeforeVerification(decoded.payload);
    const sent = early && readEarly(early);
    // Answered below when the token verifies; a token refused before that leaves its reads unawaited.
    sent?.seen.catch(() => undefined);
    sent?.named?.catch(() => undefined);
    await admitted;
    const policy = {
      issuer: deps.oidc.issuer(),
      audience: deps.clientId,
      algorithm: deps.algorithm,
      keys: deps.oidc.signingKeys(),
      clockToleranceSeconds: deps.clockToleranceSeconds,
      onIssuedAt: deps.oidc.observeIssuedAt,
    };
    const claims = await verifyLogoutToken(logoutToken, policy, decoded);
    const reads = sent && sameNames(sent.of, claims) ? sent : readEarly(claims);
    const { providerSid } = claims;
    const [seen, named] = await Promise.all([
      reads.seen,
      providerSid === undefined ? reads.named! : endThenRead({ ...claims, providerSid }, deps.ends, deps.index),
    ]);
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

/**
 * Records the provider session's end, then reads the sessions the token names: the write is issued
 * first, the reads in the same tick behind it. With `sub` too, only that user's sessions of the
 * provider session; the user's index is on another Cluster slot, so its read is not ordered behind
 * the write: a session of the provider session missing from it (a sign-in between the two) has it
 * read again once the write is done.
 */
async function endThenRead(claims: LogoutClaims & { providerSid: string }, ends: ProviderSessionEnds, index: SessionIndex): Promise<string[]> {
  const ended = ends.record(claims.iss, claims.providerSid, claims.iat, claims.sub);
  const ofProviderSession = index.byProviderSession(claims.iss, claims.providerSid);
  const ofUser = claims.sub === undefined ? undefined : index.byUser(claims.iss, claims.sub);
  const [, sessionIds, userSessionIds] = await Promise.all([ended, ofProviderSession, ofUser]);
  if (userSessionIds === undefined) return sessionIds;
  let users = new Set(userSessionIds);
  if (sessionIds.some((sessionId) => !users.has(sessionId))) users = new Set(await index.byUser(claims.iss, claims.sub!));
  return sessionIds.filter((sessionId) => users.has(sessionId));
}

/**
 * The keys a token would name, read from its payload without verifying it, or undefined when the
 * payload does not name them plainly (verification will refuse it, or read again).
 */
function namedBeforeVerification(payload: Record<string, unknown>): Named | undefined {
  const { iss, jti, sub, sid } = payload;
  const idOrAbsent = (value: unknown) => value === undefined || typeof value === 'string';
  if (typeof iss !== 'string' || typeof jti !== 'string' || !idOrAbsent(sub) || !idOrAbsent(sid) || (sub === undefined && sid === undefined)) return undefined;
  return { iss, jti, sub: sub as string | undefined, providerSid: sid as string | undefined };
}

function sameNames(a: Named, b: Named): boolean {
  return a.iss === b.iss && a.jti === b.jti && a.sub === b.sub && a.providerSid === b.providerSid;
}
