import type { Request } from 'express';
import session, { Store, type SessionData } from 'express-session';
import RedisStore from 'connect-redis';
import type { Redis } from 'ioredis';
import { HttpError, unavailable } from '../http/httpError.js';
import type { Tombstones } from './tombstones.js';

type Callback<T = void> = (err?: unknown, value?: T | null) => void;

/** What a write of a session record found once the record was written. */
export type WriteOutcome = 'written' | 'revoked';

/**
 * The express-session store, plus a promise API over the same records for code outside a request
 * (revocation, token refresh, the liveness monitor). Wraps connect-redis (or express-session's
 * MemoryStore when there is no Redis) and adds these rules:
 *  - a session id with a tombstone loads as a stand-in carrying `revoked`, whether or not its record
 *    is (still, or again) there, so the guard answers `session_revoked` and never a live session;
 *  - a stand-in is never written back: a revoked session cannot come back to life;
 *  - every write re-checks revocation after the write (a revocation that landed meanwhile wins);
 *  - nothing here deletes a record on express-session's behalf: `regenerate` only makes a new id
 *    (the caller revokes the old session when it was live), and a failed TTL renewal is ignored.
 * It never emits 'disconnect': express-session would then treat every request as having no session
 * (a sign-out while Redis is away); a failed read is a 503 instead.
 */
export class SessionStore extends Store {
  readonly #inner: Store;
  readonly #tombstones: Tombstones;
  readonly #standInMaxAgeMs: number;

  constructor(inner: Store, tombstones: Tombstones, standInMaxAgeMs: number) {
    super();
    this.#inner = inner;
    this.#tombstones = tombstones;
    this.#standInMaxAgeMs = standInMaxAgeMs;
  }

  override get(sid: string, callback: Callback<SessionData>): void {
    this.#lookup(sid).then((value) => callback(null, value), (err) => callback(asUnavailable(err)));
  }

  /** express-session's save (`req.session.save()`, or a modified session at the end of a request). */
  override set(sid: string, data: SessionData, callback?: Callback): void {
    if (data.revoked) return void callback?.();
    this.write(sid, data).then(
      (outcome) => callback?.(outcome === 'revoked' ? sessionRevoked() : undefined),
      (err) => callback?.(err),
    );
  }

  /**
   * Renews the idle TTL (rolling sessions). Needs no revocation re-check: EXPIRE never creates a
   * key, so it cannot revive a deleted record. It runs when the answer is already decided, so a
   * failure (Redis slow or down) is not the request's failure: at worst the session idles out sooner.
   */
  override touch(sid: string, data: SessionData, callback?: Callback): void {
    if (data.revoked || !this.#inner.touch) return void callback?.();
    this.#inner.touch(sid, data, () => callback?.());
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#inner.destroy(sid, (err) => callback?.(err ? asUnavailable(err) : undefined));
  }

  /** A new session id for the request; the old record is left to revocation (see the class comment). */
  override regenerate(req: Request, callback: (err?: unknown) => void): void {
    (this as unknown as { generate(req: Request): void }).generate(req);
    callback();
  }

  /** The stored record, without stand-ins. */
  read(sid: string): Promise<SessionData | null> {
    return new Promise((resolve, reject) =>
      this.#inner.get(sid, (err, data) => (err ? reject(asUnavailable(err)) : resolve(data ?? null))),
    );
  }

  /**
   * Writes a session record, then re-reads its tombstone: if the session was revoked while the
   * record was being written (a back-channel logout during sign-in or a token refresh), the record
   * is removed again and the result is `revoked`. Rejects with a 503 HttpError when Redis fails;
   * the record may then exist or not (a timed-out SET can still run), which readers tolerate since
   * a tombstone always wins.
   */
  async write(sid: string, data: SessionData): Promise<WriteOutcome> {
    if (data.revoked) return 'revoked';
    await new Promise<void>((resolve, reject) =>
      this.#inner.set(sid, data, (err) => (err ? reject(asUnavailable(err)) : resolve())),
    );
    if (!(await this.#tombstones.get(sid))) return 'written';
    await this.remove(sid);
    return 'revoked';
  }

  remove(sid: string): Promise<void> {
    return new Promise((resolve, reject) => this.destroy(sid, (err) => (err ? reject(err) : resolve())));
  }

  async #lookup(sid: string): Promise<SessionData | null> {
    // Both reads in one round trip (auto-pipelined): a tombstone wins over a record, so a record
    // written back by a writer that raced its revocation never reads as live, even for a moment.
    const [data, revoked] = await Promise.all([this.read(sid), this.#tombstones.get(sid)]);
    if (!revoked) return data;
    const cookie = { originalMaxAge: this.#standInMaxAgeMs, expires: new Date(Date.now() + this.#standInMaxAgeMs) };
    return { cookie, revoked } as unknown as SessionData;
  }
}

export function createSessionStore(options: {
  redis: Redis | undefined;
  prefix: string;
  idleSeconds: number;
  tombstones: Tombstones;
}): SessionStore {
  const inner = options.redis
    ? new RedisStore({ client: options.redis, prefix: `${options.prefix}sess:`, ttl: options.idleSeconds })
    : new session.MemoryStore();
  return new SessionStore(inner, options.tombstones, options.idleSeconds * 1000);
}

function sessionRevoked(): HttpError {
  return new HttpError(401, 'session_revoked', 'This session was ended while it was being saved; sign in again');
}

function asUnavailable(err: unknown): unknown {
  return err instanceof HttpError ? err : unavailable('Redis', err);
}
