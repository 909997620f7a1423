import type { Request } from 'express';
import session, { Store, type SessionData } from 'express-session';
import RedisStore from 'connect-redis';
import { redisKeys } from '../storage/keys.js';
import type { RedisConnection } from '../storage/redisClient.js';
import { HttpError, unavailable } from '../errors.js';
import type { Kv } from '../storage/kv.js';
import type { AuthState } from './authState.js';
import type { TokenSet } from './tokenSet.js';
import { sessionIssuedAt } from './sessionIssuedAt.js';
import { createSessionTokens, type SessionTokens } from './sessionTokens.js';
import { isTokenSet } from './tokenSet.js';
import type { Tombstones } from './tombstones.js';
import type { ProviderSessionEnds } from './providerSessionEnds.js';
import { renewalSlackMs, type IdleTimeout } from './idleTimeout.js';
import { carryMarks, issuedBeforeNotBefore, markIssuedBeforeNotBefore, markRenewalNotDue, renewalNotDue } from './sessionMarks.js';

type Callback<T = void> = (err?: unknown, value?: T | null) => void;

/**
 * How a write learns that the session's provider session ended (a logout token naming its `sid`
 * that may have read the index before this session was in it): `ends` is read after the write,
 * `end` revokes the session (as `backchannel_logout`).
 */
export interface ProviderSessionEnd {
  ends: ProviderSessionEnds;
  end: (sessionId: string) => Promise<unknown>;
}

/** What a write of a session record found once the record was written. */
export type WriteOutcome = 'written' | 'revoked';

/**
 * The express-session store, plus a promise API over the same records for code outside a request
 * (revocation, token refresh, the liveness monitor). Wraps connect-redis (or express-session's
 * MemoryStore when there is no Redis) and adds these rules:
 *  - a session id with a tombstone loads as a stand-in carrying `revoked`, whether or not its record
 *    is (still, or again) there, so the guard answers `session_revoked` and never a live session;
 *  - a stand-in is never written back: a revoked session cannot come back to life;
 *  - every write re-checks revocation after the write (a revocation that landed meanwhile wins),
 *    and the end of its provider session (see ProviderSessionEnd), which it then revokes;
 *  - nothing here deletes a record on express-session's behalf: `regenerate` only makes a new id
 *    (the caller revokes the old session when it was live), and a failed TTL renewal is ignored;
 *  - the idle timeout is renewed only when due (see `IdleTimeout`);
 *  - the tokens live under a key of their own (SessionTokens): a record written with a full
 *    TokenSet stores the tokens first, until the session's absolute end, and keeps only their
 *    times; they are deleted with the record.
 * It never emits 'disconnect': express-session would then treat every request as having no session
 * (a sign-out while Redis is away); a failed read is a 503 instead.
 */
export class SessionStore extends Store {
  readonly #inner: Store;
  readonly #tombstones: Tombstones;
  readonly #tokens: SessionTokens;
  readonly #standInMaxAgeMs: number;
  readonly #idle: IdleTimeout;
  readonly #notBefore: (() => Promise<number>) | undefined;
  readonly #providerSessionEnd: ProviderSessionEnd | undefined;

  /**
   * `notBefore`: the configured issuer's not-before, epoch seconds (0 when none was announced).
   * `providerSessionEnd`: absent only in tests of the store alone.
   */
  constructor(
    inner: Store,
    tombstones: Tombstones,
    tokens: SessionTokens,
    idle: IdleTimeout,
    notBefore?: () => Promise<number>,
    providerSessionEnd?: ProviderSessionEnd,
  ) {
    super();
    this.#inner = inner;
    this.#tombstones = tombstones;
    this.#tokens = tokens;
    this.#standInMaxAgeMs = idle.idleMs;
    this.#idle = idle;
    this.#notBefore = notBefore;
    this.#providerSessionEnd = providerSessionEnd;
  }

  /** express-session's hook that turns a loaded record into `req.session`: carries the marks over. */
  override createSession(req: Request, data: SessionData): session.Session & SessionData {
    const created = super.createSession(req, data);
    carryMarks(data, created);
    return created;
  }

  override get(sessionId: string, callback: Callback<SessionData>): void {
    this.#lookup(sessionId).then((value) => callback(null, value), (err) => callback(asUnavailable(err)));
  }

  /** express-session's save (`req.session.save()`, or a modified session at the end of a request). */
  override set(sessionId: string, data: SessionData, callback?: Callback): void {
    if (data.revoked) return void callback?.();
    this.write(sessionId, data).then(
      (outcome) => callback?.(outcome === 'revoked' ? sessionRevoked() : undefined),
      (err) => callback?.(err),
    );
  }

  /**
   * Renews the idle TTL (rolling sessions). Needs no revocation re-check: EXPIRE never creates a
   * key, so it cannot revive a deleted record. It runs when the answer is already decided, so a
   * failure (Redis slow or down) is not the request's failure: at worst the session idles out sooner.
   */
  override touch(sessionId: string, data: SessionData, callback?: Callback): void {
    if (data.revoked || renewalNotDue(data) || !this.#inner.touch) return void callback?.();
    this.#inner.touch(sessionId, this.#withIdleExpiry(data), () => callback?.());
  }

  /** Deletes the record and its tokens (one round trip). */
  override destroy(sessionId: string, callback?: Callback): void {
    Promise.all([
      new Promise<void>((resolve, reject) => this.#inner.destroy(sessionId, (err) => (err ? reject(err) : resolve()))),
      this.#tokens.remove(sessionId),
    ]).then(() => callback?.(), (err: unknown) => callback?.(asUnavailable(err)));
  }

  /** A new session id for the request; the old record is left to revocation (see the class comment). */
  override regenerate(req: Request, callback: (err?: unknown) => void): void {
    (this as unknown as { generate(req: Request): void }).generate(req);
    callback();
  }

  /**
   * The session's tokens: from their own key, or, for a record written before they had one, from
   * the record (`auth`, as read). Null when neither holds them.
   */
  async readTokens(sessionId: string, auth: AuthState): Promise<TokenSet | null> {
    return (await this.#tokens.get(sessionId)) ?? (isTokenSet(auth.tokens) ? auth.tokens : null);
  }

  /**
   * The record as a request would find it alive, or null: null too when a tombstone stands for it,
   * when its tokens predate the issuer-wide not-before, or when its absolute lifetime is over (for
   * listings, which must not show a session the next request would find revoked). Reads as `get`
   * does (one round trip); throws a 503 HttpError when storage fails.
   */
  async readLive(sessionId: string): Promise<SessionData | null> {
    const data = await this.#lookup(sessionId);
    if (!data?.auth || data.revoked || issuedBeforeNotBefore(data) || data.auth.absoluteExpiresAt <= Date.now()) return null;
    return data;
  }

  /** The stored record, without stand-ins. */
  read(sessionId: string): Promise<SessionData | null> {
    return new Promise((resolve, reject) =>
      this.#inner.get(sessionId, (err, data) => (err ? reject(asUnavailable(err)) : resolve(data ?? null))),
    );
  }

  /**
   * Writes a session record, then re-reads its tombstone: if the session was revoked while the
   * record was being written (a back-channel logout during sign-in or a token refresh), the record
   * is removed again and the result is `revoked`. In the same round trip it reads whether the
   * session's provider session ended with tokens no newer than the session's (a logout token that
   * may have looked for the session before it was indexed): the session is then revoked as
   * `backchannel_logout`, and the result is `revoked` too. Rejects with a 503 HttpError when Redis
   * fails; the record may then exist or not (a timed-out SET can still run), which readers tolerate
   * since a tombstone always wins.
   */
  async write(sessionId: string, data: SessionData): Promise<WriteOutcome> {
    if (data.revoked) return 'revoked';
    const tokens = data.auth?.tokens;
    const record = tokens ? { ...data, auth: { ...data.auth, tokens: { expiresAt: tokens.expiresAt, issuedAt: tokens.issuedAt } } } : data;
    // Tokens first, and only then the record: a record never stands beside older tokens than the
    // times it carries (a failed token write leaves the previous record, whose times match them).
    // They live until the absolute end, not the idle TTL, so no renewal can leave a record without them.
    if (tokens && isTokenSet(tokens)) {
      await this.#tokens.put(sessionId, tokens, Math.max(data.auth!.absoluteExpiresAt - Date.now(), 0) + this.#idle.slackMs).catch((err: unknown) => {
        throw asUnavailable(err);
      });
    }
    await new Promise<void>((resolve, reject) =>
      this.#inner.set(sessionId, this.#withIdleExpiry(record as SessionData), (err) => (err ? reject(asUnavailable(err)) : resolve())),
    );
    const auth = data.auth;
    const providerSessionEnd = this.#providerSessionEnd;
    const [tombstone, ended] = await Promise.all([
      this.#tombstones.get(sessionId),
      providerSessionEnd && auth?.providerSid !== undefined
        ? providerSessionEnd.ends.endedSince(auth.issuer, auth.providerSid, auth.sub, sessionIssuedAt(auth))
        : false,
    ]);
    if (tombstone) await this.remove(sessionId);
    else if (ended) await providerSessionEnd!.end(sessionId);
    else return 'written';
    return 'revoked';
  }

  remove(sessionId: string): Promise<void> {
    return new Promise((resolve, reject) => this.destroy(sessionId, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * The record as the inner store should keep it: the cookie carries the session's absolute end
   * (the browser need not hear of renewals), but the in-process twin expires records by
   * `cookie.expires`, so it gets the idle expiry; connect-redis takes its TTL from `ttl` instead.
   */
  #withIdleExpiry(data: SessionData): SessionData {
    if (this.#idle.remainingMs) return data;
    const expires = new Date(Date.now() + this.#idle.idleMs + this.#idle.slackMs);
    return { ...data, cookie: { ...data.cookie, expires } } as SessionData;
  }

  async #lookup(sessionId: string): Promise<SessionData | null> {
    // The reads in one round trip (auto-pipelined): a tombstone wins over a record, so a record
    // written back by a writer that raced its revocation never reads as live, even for a moment;
    // the record's TTL says whether this request must renew it; the issuer's not-before whether
    // its tokens were voided by an admin action.
    const [data, revoked, remainingMs, notBefore] = await Promise.all([
      this.read(sessionId),
      this.#tombstones.get(sessionId),
      this.#idle.remainingMs?.(sessionId),
      this.#notBefore?.(),
    ]);
    if (!revoked) {
      if (data && remainingMs !== undefined && remainingMs > this.#idle.idleMs) markRenewalNotDue(data);
      if (data?.auth && notBefore && sessionIssuedAt(data.auth) < notBefore) markIssuedBeforeNotBefore(data);
      return data;
    }
    const cookie = { originalMaxAge: this.#standInMaxAgeMs, expires: new Date(Date.now() + this.#standInMaxAgeMs) };
    return { cookie, revoked } as unknown as SessionData;
  }
}

export function createSessionStore(options: {
  redis: RedisConnection | undefined;
  prefix: string;
  idleSeconds: number;
  tombstones: Tombstones;
  /** Where the tokens are kept (`<prefix>tok:<sessionId>`): the same Redis, or the in-process twin. */
  kv: Kv;
  /** The configured issuer's not-before (epoch s), read with every session load. */
  notBefore?: () => Promise<number>;
  /** Read after every write (see SessionStore.write); absent only in tests of the store alone. */
  providerSessionEnd?: ProviderSessionEnd;
}): SessionStore {
  const idleMs = options.idleSeconds * 1000;
  const slackMs = renewalSlackMs(idleMs);
  const { redis } = options;
  const tokens = createSessionTokens(options.kv, options.prefix);
  if (!redis) return new SessionStore(new session.MemoryStore(), options.tombstones, tokens, { idleMs, slackMs }, options.notBefore, options.providerSessionEnd);
  const keyOf = redisKeys(options.prefix).session;
  // A function, so connect-redis never derives the TTL from the cookie (which carries the absolute end).
  const ttlSeconds = () => (idleMs + slackMs) / 1000;
  return new SessionStore(new RedisStore({ client: redis, prefix: keyOf(''), ttl: ttlSeconds }), options.tombstones, tokens, {
    idleMs,
    slackMs,
    remainingMs: async (sessionId) => {
      try {
        return await redis.pttl(keyOf(sessionId));
      } catch (err) {
        throw unavailable('Redis', err);
      }
    },
  }, options.notBefore, options.providerSessionEnd);
}

function sessionRevoked(): HttpError {
  return new HttpError(401, 'session_revoked', 'This session was ended while it was being saved; sign in again');
}

function asUnavailable(err: unknown): unknown {
  return err instanceof HttpError ? err : unavailable('Redis', err);
}
