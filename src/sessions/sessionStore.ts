import session, { Store, type SessionData } from 'express-session';
import RedisStore from 'connect-redis';
import type { RedisConnection } from '../storage/redisClient.js';
import { HttpError, unavailable } from '../http/httpError.js';
import type { Tombstones } from './tombstones.js';

type Callback<T = void> = (err?: unknown, value?: T | null) => void;

/**
 * The express-session store, plus a promise API over the same records for code outside a request
 * (revocation, token refresh, the liveness monitor). Wraps connect-redis (or express-session's
 * MemoryStore when there is no Redis) and adds two rules:
 *  - a missing session whose id has a tombstone loads as a stand-in carrying `revoked`, so the
 *    session guard can answer `session_revoked` instead of treating the cookie as unknown;
 *  - a stand-in is never written back: a revoked session cannot come back to life.
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

  override set(sid: string, data: SessionData, callback?: Callback): void {
    if (data.revoked) return void callback?.();
    this.#inner.set(sid, data, (err) => callback?.(err ? asUnavailable(err) : undefined));
  }

  override touch(sid: string, data: SessionData, callback?: Callback): void {
    if (data.revoked || !this.#inner.touch) return void callback?.();
    this.#inner.touch(sid, data, (err?: unknown) => callback?.(err ? asUnavailable(err) : undefined));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#inner.destroy(sid, (err) => callback?.(err ? asUnavailable(err) : undefined));
  }

  /** The stored record, without stand-ins. */
  read(sid: string): Promise<SessionData | null> {
    return new Promise((resolve, reject) =>
      this.#inner.get(sid, (err, data) => (err ? reject(asUnavailable(err)) : resolve(data ?? null))),
    );
  }

  write(sid: string, data: SessionData): Promise<void> {
    return new Promise((resolve, reject) => this.set(sid, data, (err) => (err ? reject(err) : resolve())));
  }

  remove(sid: string): Promise<void> {
    return new Promise((resolve, reject) => this.destroy(sid, (err) => (err ? reject(err) : resolve())));
  }

  async #lookup(sid: string): Promise<SessionData | null> {
    const data = await this.read(sid);
    if (data) return data;
    const revoked = await this.#tombstones.get(sid);
    if (!revoked) return null;
    const cookie = { originalMaxAge: this.#standInMaxAgeMs, expires: new Date(Date.now() + this.#standInMaxAgeMs) };
    return { cookie, revoked } as unknown as SessionData;
  }
}

export function createSessionStore(options: {
  redis: RedisConnection | undefined;
  prefix: string;
  idleSeconds: number;
  tombstones: Tombstones;
}): SessionStore {
  const inner = options.redis
    ? new RedisStore({ client: options.redis, prefix: `${options.prefix}sess:`, ttl: options.idleSeconds })
    : new session.MemoryStore();
  return new SessionStore(inner, options.tombstones, options.idleSeconds * 1000);
}

function asUnavailable(err: unknown): unknown {
  return err instanceof HttpError ? err : unavailable('Redis', err);
}
