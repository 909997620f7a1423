import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { getJson } from './getJson.js';

export interface SigningKeysOptions {
  /** At most one fetch per this many ms, on unknown `kid`s or failures alike. */
  cooldownMs: number;
  /** A set older than this is fetched again before use (ms). */
  cacheMaxAgeMs: number;
  timeoutMs: number;
  now?: () => number;
}

/**
 * The issuer's signing keys from its `jwks_uri`, for logout tokens and admin actions: a
 * `JWTVerifyGetKey`, jose's key-lookup shape (used by verifyJwsSignature, src/backchannel/compactJws.ts).
 *
 * A token whose `kid` is not in the cached set makes the set be fetched again. Fetches are at most
 * one per `cooldownMs` and shared by every request waiting for them; a request that meets an
 * unknown `kid` inside the cooldown waits for the next fetch (at most `cooldownMs`) rather than
 * failing, so a token signed with a key the provider published a moment ago verifies (jose's
 * createRemoteJWKSet refuses it for its whole 30 s cooldown), while a flood of made-up `kid`s costs
 * the provider one request per cooldown. A set past `cacheMaxAgeMs` whose refetch fails keeps
 * serving: a JWKS outage does not stop logouts signed with known keys. The set is first fetched
 * at creation, ahead of the first token.
 *
 * Errors: jose's `JWKSNoMatchingKey` (no key fits, even after a fetch), `JWKSInvalid` (the provider
 * served no valid JWKS); a network failure, timeout or non-200 answer is a plain `Error`.
 */
export function createSigningKeys(url: URL, options: SigningKeysOptions): JWTVerifyGetKey {
  const now = options.now ?? Date.now;
  let local: JWTVerifyGetKey | undefined;
  let generation = 0;
  let fetchedAt = -Infinity;
  let pending: Promise<void> | undefined;

  const fetchSet = async (): Promise<void> => {
    const wait = fetchedAt + options.cooldownMs - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      local = createLocalJWKSet((await getJson(url, { accept: 'application/json, application/jwk-set+json', timeoutMs: options.timeoutMs })) as JSONWebKeySet);
      generation++;
    } finally {
      fetchedAt = now();
    }
  };
  const load = (): Promise<void> => (pending ??= fetchSet().finally(() => (pending = undefined)));
  // Fetched ahead of the first token: a logout is not kept waiting on it.
  void load().catch(() => undefined);

  return async (header, token) => {
    if (!local) await load();
    else if (now() - fetchedAt > options.cacheMaxAgeMs) await load().catch(() => undefined);
    const seen = generation;
    try {
      return await local!(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A fetch that finished meanwhile is as good as our own.
      if (generation === seen) await load();
      return local!(header, token);
    }
  };
}
