import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startOwnRedis, type OwnRedis } from '../support/ownRedis.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

/**
 * Every secret the app handles, collected as the test goes: from the provider (every token it
 * issued, the provider session ids and e-mail addresses inside the ID tokens), from the browser
 * (cookie values, session ids, authorization codes, states), and the Redis password.
 */
class Secrets {
  readonly #values = new Map<string, string>();

  add(kind: string, value: string | undefined): void {
    if (value) this.#values.set(value, kind);
  }

  fromTokenResponse(body: { access_token?: string; refresh_token?: string; id_token?: string }): void {
    this.add('access token', body.access_token);
    this.add('refresh token', body.refresh_token);
    this.add('ID token', body.id_token);
    if (body.id_token) {
      const claims = decodeJwt(body.id_token);
      this.add('provider sid', claims.sid as string | undefined);
      this.add('e-mail', claims.email as string | undefined);
    }
  }

  fromNavigation(agent: UserAgent, world: World, hops: string[]): void {
    for (const hop of hops.filter((url) => url.startsWith(`${world.baseUrl}/auth/callback`))) {
      const query = new URL(hop).searchParams;
      this.add('authorization code', query.get('code') ?? undefined);
      this.add('state', query.get('state') ?? undefined);
    }
    this.fromBrowser(agent, world);
  }

  fromBrowser(agent: UserAgent, world: World): void {
    const cookie = agent.cookie(world.baseUrl, 'bff.sid');
    if (!cookie) return;
    this.add('cookie value', cookie);
    this.add('cookie value (decoded)', decodeURIComponent(cookie));
    this.add('session id', sessionIdOf(agent, world.baseUrl));
  }

  kinds(): Set<string> {
    return new Set(this.#values.values());
  }

  /** "kind: where" for each secret found in `text`. */
  foundIn(text: string): string[] {
    return [...this.#values].filter(([value]) => text.includes(value)).map(([value, kind]) => `${kind} (${value.slice(0, 12)}…)`);
  }
}

describe('logs hold no secret, also when Redis refuses commands', () => {
  let redis: OwnRedis;
  let world: World;
  const secrets = new Secrets();
  const appPassword = 'app-password-0123456789';
  /** One administrative command on the test's own server, which must answer OK. */
  const admin = async (...args: string[]) => expect(await redis.command(args)).toBe('+OK');

  beforeAll(async () => {
    redis = await startOwnRedis();
    await admin('ACL', 'SETUSER', 'app', 'on', `>${appPassword}`, '~*', '&*', '+@all');
    // Access tokens live 30 s, less than the 60 s refresh skew: every API request refreshes them.
    world = await startWorld({
      accessTokenTtlSeconds: 30,
      env: { REDIS_URL: `redis://app:${appPassword}@127.0.0.1:${redis.port}`, LOG_LEVEL: 'trace' },
    });
    world.op.provider.on('grant.success', (ctx: { body?: Record<string, string> }) => secrets.fromTokenResponse(ctx.body ?? {}));
    secrets.add('Redis password', appPassword);
  });
  afterAll(async () => {
    await world?.close();
    await redis?.stop();
  });

  const logText = () => world.apps[0]!.logs.join('\n');
  const json = { headers: { accept: 'application/json' } };

  it('when users sign in, use the API and log out normally, then no secret reaches the log', async () => {
    const agent = new UserAgent();
    const nav = await signIn(agent, world, 'alice');
    secrets.fromNavigation(agent, world, nav.hops);
    await agent.fetch(`${world.baseUrl}/api/user`, { headers: { authorization: 'Bearer should-not-appear-0123456789' } });
    secrets.add('authorization header', 'should-not-appear-0123456789');
    await agent.fetch(`${world.baseUrl}/api/sessions`);
    await agent.fetch(`${world.baseUrl}/auth/logout`, json);

    expect(logText()).toContain('signed in');
    expect(logText()).toContain('/auth/callback');
    expect(secrets.foundIn(logText())).toEqual([]);
  });

  it('when Redis refuses writes to session records (ACL) during refresh, sign-in, logout and back-channel logout, then errors are logged without their arguments', async () => {
    const alice = new UserAgent();
    const bob = new UserAgent();
    secrets.fromNavigation(alice, world, (await signIn(alice, world, 'alice')).hops);
    secrets.fromNavigation(bob, world, (await signIn(bob, world, 'bob')).hops);
    const bobStore = world.apps[0]!.services.store;
    const bobSessionId = sessionIdOf(bob, world.baseUrl);
    const bobTokens = await bobStore.readTokens(bobSessionId, (await bobStore.read(bobSessionId))!.auth!);
    const bobSid = decodeJwt(String(bobTokens!.idToken)).sid;

    const prefix = world.prefix;
    await admin('ACL', 'SETUSER', 'app', 'resetkeys', `%R~${prefix}sess:*`, `%RW~${prefix}[^s]*`);
    try {
      const refreshed = await alice.fetch(`${world.baseUrl}/api/user`);
      expect(refreshed.status).toBeGreaterThanOrEqual(500);
      const carol = new UserAgent();
      const login = await signIn(carol, world, 'carol');
      secrets.fromNavigation(carol, world, login.hops);
      expect(login.response.status).toBeGreaterThanOrEqual(500);
      await alice.fetch(`${world.baseUrl}/auth/logout`, json);
      const token = await world.op.signLogoutToken({ sid: bobSid as string, sub: 'bob' });
      await fetch(`${world.baseUrl}/auth/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
    } finally {
      await admin('ACL', 'SETUSER', 'app', '~*');
    }

    expect(logText()).toMatch(/NOPERM/);
    expect([...secrets.kinds()]).toEqual(
      expect.arrayContaining(['session id', 'cookie value', 'access token', 'refresh token', 'ID token', 'provider sid', 'e-mail', 'authorization code', 'state']),
    );
    expect(secrets.foundIn(logText())).toEqual([]);
  });

  it('when Redis is out of memory (maxmemory, noeviction), then sign-in, refresh and logout errors are logged without their arguments', async () => {
    const dave = new UserAgent();
    secrets.fromNavigation(dave, world, (await signIn(dave, world, 'alice')).hops);
    await admin('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await admin('CONFIG', 'SET', 'maxmemory', '1');
    try {
      expect((await dave.fetch(`${world.baseUrl}/api/user`)).status).toBeGreaterThanOrEqual(500);
      const erin = new UserAgent();
      secrets.fromNavigation(erin, world, (await signIn(erin, world, 'bob')).hops);
      await dave.fetch(`${world.baseUrl}/auth/logout`, json);
    } finally {
      await admin('CONFIG', 'SET', 'maxmemory', '0');
    }

    expect(logText()).toMatch(/OOM/);
    expect(secrets.foundIn(logText())).toEqual([]);
  });
});

describe('the logger', () => {
  it('when an error carrying its command is logged by hand in any of the usual ways, then only name, message and code are written', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) }));
    const replyError = Object.assign(new Error('NOPERM No permissions to access a key'), {
      name: 'ReplyError',
      command: { name: 'set', args: ['bff:sess:the-session-id', '{"accessToken":"the-access-token"}'] },
      code: 'NOPERM',
    });
    log.error({ err: replyError }, 'as a field');
    log.warn(replyError, 'as the first argument');
    log.info({ err: Promise.reject(replyError).catch(() => replyError) }, 'a promise is not an error');
    log.error({ err: { command: replyError.command } }, 'an object without a message');

    const written = lines.join('');
    expect(written).toContain('NOPERM No permissions to access a key');
    expect(written).toContain('"code":"NOPERM"');
    expect(written).not.toContain('the-session-id');
    expect(written).not.toContain('the-access-token');
    expect(written).not.toContain('"stack"');
  });
});
