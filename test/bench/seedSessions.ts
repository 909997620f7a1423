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
 * Writes `count` signed-in sessions straight into Redis in the layout the app uses (record, then
 * index entries), with cookies signed the way express-session signs them. Arranging 10,000 sessions
 * through the full code flow would measure the provider, not us.
 */
export async function seedSessions(options: {
  redisUrl: string;
  prefix: string;
  issuer: string;
  secret: string;
  count: number;
  cookieName?: string;
}): Promise<SeededSession[]> {
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
        await index.add({ sessionId: s.sid, issuer: options.issuer, sub: s.sub, providerSid: s.providerSid, expiresAt: absoluteExpiresAt });
        const record = {
          cookie: { originalMaxAge: 3600_000, expires: new Date(absoluteExpiresAt).toISOString(), httpOnly: true, path: '/', sameSite: 'lax' },
          auth: {
            issuer: options.issuer,
            sub: s.sub,
            providerSid: s.providerSid,
            user: { id: s.sub, username: s.sub, name: s.sub, email: null, roles: [] },
            tokens: { accessToken: 'bench', refreshToken: undefined, idToken: 'bench', expiresAt: absoluteExpiresAt },
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
