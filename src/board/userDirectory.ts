import type { Database } from '../db/database.js';
import { describeError, type Logger } from '../logger.js';
import type { AuthState } from '../sessions/authState.js';
import { identityOf, type ExternalIdentity } from '../sessions/externalIdentity.js';

export interface UserDirectory {
  /**
   * Just-in-time provisioning at login: creates or refreshes the user's row and records the login.
   * Never rejects, and waits at most `provisionWaitMs` (not at all for a database still to start):
   * sign-in must not depend on the database. On
   * failure it logs, and the first board request of that session provisions the user instead (`userIdFor`).
   */
  provisionUser(identity: ExternalIdentity, loginAt?: Date): Promise<void>;
  /** The internal user id of a session's user, provisioning on demand. Rejects 503 when the database is down. */
  userIdFor(auth: AuthState): Promise<number>;
}

/**
 * Users in SQL with an in-process cache of (issuer, sub) → id. The id of an identity never changes,
 * so the cache needs no invalidation across replicas; it is bounded (least recently used goes first).
 */
export function createUserDirectory(deps: {
  db: Database;
  log: Logger;
  cacheSize?: number;
  /** Longest a login waits for provisioning; a slower upsert finishes in the background. */
  provisionWaitMs?: number;
  /**
   * False while the database waits for its first use or is starting (the embedded PGlite): a login
   * then does not wait at all; its provisioning starts the database and finishes in the background.
   */
  isStarted?: () => boolean;
}): UserDirectory {
  const { db, log } = deps;
  const cacheSize = deps.cacheSize ?? 10_000;
  const provisionWaitMs = deps.provisionWaitMs ?? 1_500;
  const ids = new Map<string, number>();
  const pending = new Map<string, Promise<number>>();

  const keyOf = (issuer: string, sub: string) => `${issuer}\n${sub}`;
  const remember = (key: string, id: number) => {
    ids.delete(key);
    ids.set(key, id);
    if (ids.size > cacheSize) ids.delete(ids.keys().next().value!);
  };

  /**
   * Insert or refresh. A refresh only applies when this login is not older than the recorded one, so
   * an old session provisioning late (after a database outage) cannot overwrite a newer profile.
   */
  const upsert = async (identity: ExternalIdentity, loginAt: Date): Promise<number> => {
    const displayName = identity.name.trim() || identity.username.trim() || identity.sub;
    const params = [identity.issuer, identity.sub, identity.username || identity.sub, displayName, identity.email, loginAt];
    const { rows } = await db.query<{ id: number | string }>(
      `INSERT INTO users (issuer, subject, username, display_name, email, last_login_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (issuer, subject) DO UPDATE
         SET username = EXCLUDED.username, display_name = EXCLUDED.display_name, email = EXCLUDED.email,
             last_login_at = EXCLUDED.last_login_at, updated_at = now()
         WHERE users.last_login_at IS NULL OR users.last_login_at <= EXCLUDED.last_login_at
       RETURNING id`,
      params,
    );
    if (rows[0]) return Number(rows[0].id);
    const existing = await db.query<{ id: number | string }>('SELECT id FROM users WHERE issuer = $1 AND subject = $2', [
      identity.issuer,
      identity.sub,
    ]);
    if (!existing.rows[0]) throw new Error('user row vanished during provisioning');
    return Number(existing.rows[0].id);
  };

  const upsertAndRemember = async (identity: ExternalIdentity, loginAt: Date): Promise<number> => {
    const id = await upsert(identity, loginAt);
    remember(keyOf(identity.issuer, identity.sub), id);
    return id;
  };

  /** On-demand path: concurrent first requests of one user share one upsert. */
  const provisionShared = (identity: ExternalIdentity, loginAt: Date): Promise<number> => {
    const key = keyOf(identity.issuer, identity.sub);
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const promise = upsertAndRemember(identity, loginAt).finally(() => pending.delete(key));
    pending.set(key, promise);
    return promise;
  };

  return {
    async provisionUser(identity, loginAt = new Date()) {
      // Its own upsert (not shared with in-flight on-demand ones): this login's profile is the newest.
      const outcome = upsertAndRemember(identity, loginAt).then(
        (id) => log.debug({ userId: id }, 'user provisioned'),
        (err: unknown) =>
          log.warn({ err: describeError(err) }, 'user provisioning failed; will retry on the first board request'),
      );
      if (deps.isStarted && !deps.isStarted()) return;
      // A slow database (not a refusing one) must not hold the login redirect for the pool's timeouts.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, provisionWaitMs);
        timer.unref();
      });
      await Promise.race([outcome, waited]);
      clearTimeout(timer);
    },

    async userIdFor(auth) {
      const key = keyOf(auth.issuer, auth.sub);
      const cached = ids.get(key);
      if (cached !== undefined) {
        remember(key, cached);
        return cached;
      }
      const loginAt = new Date(auth.loginTime);
      return provisionShared(identityOf(auth), Number.isNaN(loginAt.getTime()) ? new Date() : loginAt);
    },
  };
}
