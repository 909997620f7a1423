import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/storage/keys.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('token refresh and provider-session liveness', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, env: { TOKEN_REFRESH_SKEW_SECONDS: '30' } });
  });
  afterAll(() => world?.close());

  const store = () => world.apps[0]!.services.store;
  /** Arrange: make the stored access token look like it expires in a second. */
  const nearExpiry = async (agent: UserAgent) => {
    const sid = sessionIdOf(agent, world.baseUrl);
    const record = (await store().read(sid))!;
    const { accessToken } = (await store().readTokens(sid, record.auth!))!;
    record.auth!.tokens.expiresAt = Date.now() + 1000;
    await store().write(sid, record);
    return { sid, accessToken };
  };
  const refreshedCount = async () => {
    let total = 0;
    for (const app of world.apps) {
      const metric = await app.services.metrics.refreshes.get();
      total += metric.values.find((v) => v.labels.outcome === 'refreshed')?.value ?? 0;
    }
    return total;
  };

  it('when the access token nears expiry and both replicas get a request at once, then it is refreshed exactly once', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const { sid, accessToken } = await nearExpiry(agent);
    const before = await refreshedCount();
    const answers = await Promise.all(world.apps.map((app) => agent.fetch(`${app.url}/api/user`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(await refreshedCount()).toBe(before + 1);
    const record = (await store().read(sid))!.auth!;
    const after = (await store().readTokens(sid, record))!;
    expect(after.accessToken).not.toBe(accessToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now() + 30_000);
    expect(record.tokens.expiresAt).toBe(after.expiresAt);
  });

  it('when the provider answers the refresh with invalid_grant, then the session is revoked as provider_session_ended', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    await nearExpiry(agent);
    await world.op.revokeGrants('bob');
    const answer = await agent.fetch(`${world.apps[1]!.url}/api/user`);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: 'session_revoked', error_description: expect.stringContaining('provider_session_ended') });
    const status = await (await agent.fetch(`${world.apps[0]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'provider_session_ended' });
  });

  it('when a record’s tokens are gone from storage (evicted, lost in a failover), then its next refresh ends the session as expired, not kept alive unchecked', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const sid = sessionIdOf(agent, world.baseUrl);
    const keys = redisKeys(world.prefix);
    const redis = new Redis(await redisUrlForTests());
    try {
      // The tokens outlive every idle renewal of the record: they are kept until the absolute end.
      expect(await redis.pttl(keys.sessionTokens(sid))).toBeGreaterThan((await redis.pttl(keys.session(sid))) + 60_000);
      await redis.del(keys.sessionTokens(sid));
    } finally {
      redis.disconnect();
    }
    const record = (await store().read(sid))!;
    record.auth!.tokens.expiresAt = Date.now() + 1000;
    await store().write(sid, record);
    const answer = await agent.fetch(`${world.apps[1]!.url}/api/user`);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: 'session_revoked' });
    const status = await (await agent.fetch(`${world.apps[0]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'expired' });
  });

  it('when a session the provider logged out is revoked again (a later check finding it gone), then it still reads backchannel_logout', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const sid = sessionIdOf(agent, world.baseUrl);
    const providerSid = (await store().read(sid))!.auth!.providerSid!;
    const posted = await fetch(`${world.apps[0]!.url}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' }) }),
    });
    expect(posted.status).toBe(200);
    await world.apps[1]!.services.revoke([sid], 'expired');
    const status = await (await agent.fetch(`${world.apps[1]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'backchannel_logout' });
  });
});

describe('liveness: a provider session that ends without a logout token', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, env: { LIVENESS_INTERVAL_SECONDS: '1' } });
  });
  afterAll(() => world?.close());

  it('when the provider revokes the grant silently, then within the interval the session is revoked and its open stream is told', async () => {
    const idle = new UserAgent();
    const other = new UserAgent();
    await signIn(idle, world, 'carol');
    await signIn(other, world, 'alice');
    const stream = await openSse(`${world.apps[1]!.url}/api/events`, { cookie: idle.cookieHeader(world.baseUrl) });
    await stream.next((m) => m.data === 'connected');

    await world.op.revokeGrants('carol');
    const event = await stream.next((m) => m.event === 'session_invalidated', 10_000);
    expect(JSON.parse(event.data)).toMatchObject({ reason: 'provider_session_ended' });
    await stream.ended;
    expect((await idle.fetch(`${world.apps[0]!.url}/api/user`)).status).toBe(401);
    expect((await other.fetch(`${world.apps[0]!.url}/api/user`)).status).toBe(200);
    // The other user's session stays scheduled for the next check.
    expect(await world.apps[0]!.services.schedule.claimDue(Date.now() + 60_000, Date.now() + 60_000, 10)).toEqual([
      sessionIdOf(other, world.baseUrl),
    ]);
  });
});
