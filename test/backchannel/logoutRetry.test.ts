import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import type { OwnRedis } from '../support/ownRedis.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const COMMAND_TIMEOUT_MS = 300;

/**
 * Issue 8 item 3: a Redis command that timed out may still run later. A logout answered 503 while
 * Redis stalled must succeed when the provider retries it after Redis is back.
 */
describe('a logout token answered 503 during a Redis stall', () => {
  let redis: OwnRedis;
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ ownRedis: true, env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
    redis = world.redis!;
  });
  afterAll(() => world?.close());

  const post = (token: string) =>
    fetch(`${world.apps[0]!.url}/auth/backchannel-logout`, { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }).toString() });

  /** SIGSTOP longer than the command timeout, then SIGCONT: the queued commands run after all. */
  async function duringStall<T>(work: () => Promise<T>): Promise<T> {
    redis.pause();
    try {
      return await work();
    } finally {
      await new Promise((resolve) => setTimeout(resolve, COMMAND_TIMEOUT_MS * 3));
      redis.resume();
      await redis.command(['PING']);
    }
  }

  it('when the same token is retried after Redis is back, then it answers 200 and the session is dead', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const sid = sessionIdOf(agent, world.baseUrl);
    const providerSid = (await world.apps[0]!.services.store.read(sid))!.auth!.providerSid!;
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
    const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' });

    const stalled = await duringStall(() => post(token));
    expect(stalled.status).toBe(503);

    const retry = await post(token);
    expect(retry.status, await retry.clone().text()).toBe(200);
    const user = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(user.status).toBe(401);
    expect(await user.json()).toMatchObject({ error: 'session_revoked' });

    // Processed once: now it is a replay.
    const replay = await post(token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error_description: expect.stringContaining('replay') });
  });

  it('when a Keycloak k_logout answered 503 is retried after Redis is back, then it answers 204 and the older sessions are dead', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const now = Math.floor(Date.now() / 1000);
    const action = await world.op.signLogoutToken(
      { iss: undefined, aud: undefined, iat: undefined, exp: undefined, jti: undefined, events: undefined, id: crypto.randomUUID(), expiration: now + 30, resource: 'board-bff', action: 'LOGOUT', notBefore: now + 1 },
      { alg: 'RS256', kid: 'test-rs256', typ: 'JWT' },
    );
    const postAction = () =>
      fetch(`${world.apps[0]!.url}/auth/keycloak/k_logout`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: action });

    const stalled = await duringStall(postAction);
    expect(stalled.status).toBe(503);
    const retry = await postAction();
    expect(retry.status, await retry.clone().text()).toBe(204);
    const user = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(user.status).toBe(401);
    expect(await user.json()).toMatchObject({ error: 'session_revoked' });
    expect((await postAction()).status).toBe(400);
  });
});
