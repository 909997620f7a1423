import { createHmac, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSessionIndex } from '../../src/sessions/sessionIndex.js';
import { createRedisKv } from '../../src/storage/redisKv.js';

export interface SeededSession {
  sid: string;
  cookie: string;
  sub: string;
  providerSid: string;
}

/**
 * Writes `count` signed-in sessions straight into Redis in the layout the app uses (index entries,
 * then the record), with cookies signed the way express-session signs them. Arranging 10,000
 * sessions through the full code flow would measure the provider, not us.
 *
 * `tokens`: `tiny` (placeholder strings, the default) or `keycloak` (strings the size of Keycloak's
 * access, refresh and ID tokens, ~3.8 KB together). `layout`: `split` (the tokens under
 * `<prefix>tok:<sid>`, the record keeping their times: this version) or `inline` (inside the
 * record: versions before it) — A/B runs seed each build its own layout.
 */
export async function seedSessions(options: {
  redisUrl: string;
  prefix: string;
  issuer: string;
  secret: string;
  count: number;
  cookieName?: string;
  tokens?: 'tiny' | 'keycloak';
  layout?: 'split' | 'inline';
}): Promise<SeededSession[]> {
  const layout = options.layout ?? 'split';
  const redis = new Redis(options.redisUrl);
  const index = createSessionIndex(createRedisKv(redis), options.prefix);
  const now = Date.now();
  const sessions: SeededSession[] = [];
  const absoluteExpiresAt = now + 3600_000;
  for (let i = 0; i < options.count; i += 500) {
    const batch = Array.from({ length: Math.min(500, options.count - i) }, (_, k) => {
      const n = i + k;
      const sid = randomBytes(18).toString('base64url');
      const signature = createHmac('sha256', options.secret).update(sid).digest('base64').replace(/=+$/, '');
      return { sid, cookie: `${options.cookieName ?? 'bff.sid'}=${encodeURIComponent(`s:${sid}.${signature}`)}`, sub: `user-${n}`, providerSid: `psid-${n}` };
    });
    await Promise.all(
      batch.map(async (s) => {
        const tokens = tokenSet(options.tokens ?? 'tiny', Math.floor(now / 1000), absoluteExpiresAt);
        if (layout === 'split') await redis.set(`${options.prefix}tok:${s.sid}`, JSON.stringify(tokens), 'EX', 3600);
        await index.add({ sessionId: s.sid, issuer: options.issuer, sub: s.sub, providerSid: s.providerSid, expiresAt: absoluteExpiresAt });
        const record = {
          cookie: { originalMaxAge: 3600_000, expires: new Date(absoluteExpiresAt).toISOString(), httpOnly: true, path: '/', sameSite: 'lax' },
          auth: {
            issuer: options.issuer,
            sub: s.sub,
            providerSid: s.providerSid,
            user: { id: s.sub, username: s.sub, name: s.sub, email: null, roles: [] },
            tokens: layout === 'inline' ? tokens : { expiresAt: tokens.expiresAt, issuedAt: tokens.issuedAt },
            loginTime: new Date(now).toISOString(),
            absoluteExpiresAt,
          },
        };
        await redis.set(`${options.prefix}sess:${s.sid}`, JSON.stringify(record), 'EX', 3600);
      }),
    );
    sessions.push(...batch);
  }
  redis.disconnect();
  return sessions;
}

/** Token strings of Keycloak's sizes (a JWT access token with roles, a refresh token, an ID token), or placeholders. */
export function tokenSet(size: 'tiny' | 'keycloak', issuedAt: number, expiresAt: number) {
  if (size === 'tiny') return { accessToken: 'bench', refreshToken: undefined, idToken: 'bench', expiresAt, issuedAt };
  const jwt = (bytes: number) => {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'bench' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iat: issuedAt, pad: randomBytes(bytes * 0.55).toString('base64url') })).toString('base64url');
    return `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
  };
  return { accessToken: jwt(1250), refreshToken: jwt(450), idToken: jwt(1000), expiresAt, issuedAt };
}
