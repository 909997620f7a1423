import { hash } from 'node:crypto';

/**
 * Every Redis key and channel of the service, in the order of the README's "Redis key layout" table
 * (test/storage/keyLayout.test.ts checks the two against each other, both ways). Each builder takes
 * the placeholders of its row; a `digest` is `keyDigest(…)` of the parts the table names in `h(…)`,
 * so subject and provider session ids never appear in key names. Every command touches one key,
 * which is what lets the layout run unchanged on Redis Cluster; the one hash tag (providerSessionEnded)
 * only orders two commands sent together, it joins no keys in one command.
 */
export function redisKeys(prefix: string) {
  return {
    /** express-session record of one session (connect-redis is given `session('')` as its prefix). */
    session: (sessionId: string) => `${prefix}sess:${sessionId}`,
    /** The tokens of one session, beside its record. */
    sessionTokens: (sessionId: string) => `${prefix}tok:${sessionId}`,
    /** Sorted set: a user's session ids; `digest` = keyDigest(issuer, sub). */
    userIndex: (digest: string) => `${prefix}idx:user:${digest}`,
    /** Sorted set: the session ids of one provider session; `digest` = keyDigest(issuer, provider sid). */
    providerSessionIndex: (digest: string) => `${prefix}idx:psid:${digest}`,
    /**
     * A provider session's end, as the latest logout token naming it (its `iat`); `digest` as the
     * provider session's index. The hash tag is that index's whole key, so on Redis Cluster both are
     * in one slot and the back-channel's write of this key runs before its read of the index.
     */
    providerSessionEnded: (digest: string) => `${prefix}sid-ended:{${prefix}idx:psid:${digest}}`,
    /** Sorted set: every session id. */
    allSessionsIndex: `${prefix}idx:all`,
    tombstone: (sessionId: string) => `${prefix}tomb:${sessionId}`,
    /** Logout-token replay marker; `digest` = keyDigest(issuer, jti). */
    logoutTokenReplay: (digest: string) => `${prefix}jti:${digest}`,
    /** Keycloak admin-action replay marker; `digest` = keyDigest(issuer, action id). */
    adminActionReplay: (digest: string) => `${prefix}admin:${digest}`,
    /** Sorted set: the issuer-wide not-before; `digest` = keyDigest(normalised issuer URL). */
    issuerNotBefore: (digest: string) => `${prefix}notbefore:${digest}`,
    refreshLock: (sessionId: string) => `${prefix}lock:refresh:${sessionId}`,
    /** Sorted set: session id → when it is next checked with the provider. */
    livenessSchedule: `${prefix}liveness`,
    /** Requests of one address on one route in the current window. */
    rateLimit: (route: string, address: string) => `${prefix}rl:${route}:${address}`,
    /** The one pub/sub channel every event travels on. */
    eventChannel: `${prefix}ev:all`,
  } as const;
}

/** SHA-256 of the parts joined by newlines, base64url, first 32 characters: the `h(…)` of key names. */
export function keyDigest(...parts: string[]): string {
  return hash('sha256', parts.join('\n'), 'base64url').slice(0, 32);
}
