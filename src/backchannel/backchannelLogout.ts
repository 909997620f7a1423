import { describeError, type Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { RevokeSessions } from '../sessions/revokeSessions.js';
import type { ProviderSessionEnds } from '../sessions/providerSessionEnds.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import { decodeCompactJws } from './compactJws.js';
import type { ReplayCache } from './replayCache.js';
import type { UserRecheck } from './userRecheck.js';
import { InvalidLogoutToken, MAX_ID_LENGTH, verifyLogoutToken, type LogoutClaims } from './verifyLogoutToken.js';

/**
 * Processes one logout token. `admitted` is the rate limit's verdict (resolves to go on, rejects
 * with the refusal): the token's signature is verified only once it has resolved.
 */
export type BackchannelLogout = (logoutToken: string, admitted?: Promise<void>) => Promise<{ revoked: number }>;

/** What a token names, as far as the reads go: its `jti` (replay marker) and the index lookups. */
type Named = Pick<LogoutClaims, 'iss' | 'jti' | 'sub' | 'providerSid'>;

/**
 * The reads sent before verification: the `jti`'s marker, the user's index for a token naming
 * `sub`, the provider session's index for a token naming `sid` (as it stood before the end was
 * written: see endThenRead).
 */
interface EarlyReads {
  of: Named;
  seen: Promise<boolean>;
  ofUser: Promise<string[]> | undefined;
  ofProviderSession: Promise<string[]> | undefined;
}

/**
 * Verifies a logout token, refuses a `jti` already processed, and revokes exactly the sessions it
 * names: with `sid`, that provider session's (and, when `sub` is there too, only those of that
 * user); with `sub` alone, all of that user's sessions at this issuer. The `jti` is remembered only
 * once the revocation succeeded (see ReplayCache), so a token answered 503 can be retried. A token
 * naming both `sid` and `sub` has the user's other sessions re-checked with the provider (UserRecheck).
 *
 * The replay check and the index lookups are sent before the signature is verified, named by the
 * token's claims as sent (unverified), in the round trip of the rate limit's read (both go out in
 * the same tick; ioredis auto-pipelines them into one write): reads only, used only when the
 * verified claims name exactly the same keys (else read again), and every decision is taken on the
 * verified token. Measured (README "Performance", fourth pass): one round trip less before the
 * answer (3 → 2 per token naming only `sub`), CPU per token 0.95× and tokens/s 1.18× of the build
 * before it (paired A/B, 7 rounds; reproduce:
 * `BENCH_PAIRED=1 npx tsx test/bench/abBuilds.ts <checkout before, built> . 7 3`).
 *
 * A token naming `sid` has the provider session's end recorded (ProviderSessionEnds) once it has
 * verified, and that provider session's index read again only after that write (see endThenRead).
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
    ofUser: of.sub === undefined ? undefined : deps.index.byUser(of.iss, of.sub),
    ofProviderSession: of.providerSid === undefined ? undefined : deps.index.byProviderSession(of.iss, of.providerSid),
  });

  return async (logoutToken, admitted) => {
    const decoded = decodeCompactJws(logoutToken);
    const early = decoded && deps.oidc.isReady() ? namedBeforeVerification(decoded.payload, deps.oidc.issuer()) : undefined;
    const sent = early && readEarly(early);
    // Answered below when the token verifies; a token refused before that leaves its reads unawaited.
    for (const read of [sent?.seen, sent?.ofUser, sent?.ofProviderSession]) read?.catch(() => undefined);
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
    const [seen, ofUser, ofProviderSession] = await Promise.all([reads.seen, reads.ofUser, reads.ofProviderSession]);
    if (seen) throw new InvalidLogoutToken('this jti was already used (replay)');
    const revoked =
      providerSid === undefined
        ? await deps.revoke(ofUser!, 'backchannel_logout')
        : await endThenRead({ ...claims, providerSid }, { ofUser, ofProviderSession: ofProviderSession! }, deps);
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
 * Records the provider session's end, reads its index again behind that write, and revokes the
 * sessions named. A callback still holding tokens of that provider session either has its session
 * in the index by the time of the read after the write, or finds the end when it saves the session
 * (SessionStore.write): the logout cannot miss it. The write is issued first and the read in the
 * same tick behind it: Redis runs one connection's commands in the order sent, also on Cluster,
 * where the two keys share a slot.
 *
 * The sessions of the index as read before (`early`, with the token's reads before verification)
 * are revoked in that same tick, so their tombstones and `session_invalidated` leave in the round
 * trip of the write (README "Performance", propagation: 2 → 1 round trip before the stream is
 * told, `npx tsx test/bench/roundTripsToEvent.ts`); a session that only the read after the write
 * finds (a sign-in in between) is revoked once it is back. With `sub` too, only that user's
 * sessions: the user's index is on another Cluster slot, so its read is not ordered behind the
 * write, and a session of the provider session missing from it has it read again.
 */
async function endThenRead(
  claims: LogoutClaims & { providerSid: string },
  early: { ofUser: string[] | undefined; ofProviderSession: string[] },
  deps: { ends: ProviderSessionEnds; index: SessionIndex; revoke: RevokeSessions },
): Promise<number> {
  let users = early.ofUser && new Set(early.ofUser);
  const theirs = (sessionIds: string[]) => (users ? sessionIds.filter((sessionId) => users!.has(sessionId)) : sessionIds);
  const first = theirs(early.ofProviderSession);
  const ended = deps.ends.record(claims.iss, claims.providerSid, claims.iat, claims.sub);
  const ofProviderSession = deps.index.byProviderSession(claims.iss, claims.providerSid);
  const revokedFirst = first.length > 0 ? deps.revoke(first, 'backchannel_logout') : 0;
  const [, sessionIds, revokedEarly] = await Promise.all([ended, ofProviderSession, revokedFirst]);
  if (users && sessionIds.some((sessionId) => !users!.has(sessionId))) users = new Set(await deps.index.byUser(claims.iss, claims.sub!));
  const done = new Set(first);
  const rest = theirs(sessionIds).filter((sessionId) => !done.has(sessionId));
  return revokedEarly + (rest.length > 0 ? await deps.revoke(rest, 'backchannel_logout') : 0);
}

/**
 * The keys a token would name, read from its payload without verifying it, or undefined when the
 * payload does not name them as a token verification could accept would (this issuer, ids within
 * bounds): reads sent for anyone's unsigned tokens cost Redis work, also for tokens the rate limit
 * then refuses, so they are sent only for tokens that may verify (else verification refuses it,
 * or the keys are read again after it).
 */
function namedBeforeVerification(payload: Record<string, unknown>, issuer: string): Named | undefined {
  const { iss, jti, sub, sid } = payload;
  const id = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH;
  const idOrAbsent = (value: unknown) => value === undefined || id(value);
  if (iss !== issuer || !id(jti) || !idOrAbsent(sub) || !idOrAbsent(sid) || (sub === undefined && sid === undefined)) return undefined;
  return { iss, jti, sub: sub as string | undefined, providerSid: sid as string | undefined };
}

function sameNames(a: Named, b: Named): boolean {
  return a.iss === b.iss && a.jti === b.jti && a.sub === b.sub && a.providerSid === b.providerSid;
}
