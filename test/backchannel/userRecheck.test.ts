import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * Issue 14 item 2: a user-wide sign-out at the provider that names only one `sid` (Keycloak 26.4's
 * "Logout all sessions") must reach the user's other sessions at once, not at the next liveness
 * round (disabled here: LIVENESS_INTERVAL_SECONDS=0 in every test app).
 */
describe('a logout token naming a user re-checks that user\'s other sessions', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, env: { LOGOUT_RECHECK_DELAY_MS: '50' } });
  });
  afterAll(() => world?.close());

  const providerSidOf = async (agent: UserAgent) =>
    (await world.apps[0]!.services.store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!;
  const post = (token: string) =>
    fetch(`${world.apps[1]!.url}/auth/backchannel-logout`, { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }).toString() });
  const statusOf = async (agent: UserAgent) => (await agent.fetch(`${world.apps[0]!.url}/api/user`)).status;
  const eventually = async (check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  };

  it('when the provider ended all of alice\'s sessions but named one, then the others end within about a second', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    const bystander = new UserAgent();
    await signIn(laptop, world, 'alice');
    await signIn(phone, world, 'alice');
    await signIn(bystander, world, 'bob');
    await world.op.revokeGrants('alice');

    expect((await post(await world.op.signLogoutToken({ sid: await providerSidOf(laptop), sub: 'alice' }))).status).toBe(200);
    expect(await statusOf(laptop)).toBe(401);
    expect(await eventually(async () => (await statusOf(phone)) === 401, 3000)).toBe(true);
    const status = await (await phone.fetch(`${world.baseUrl}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'provider_session_ended' });
    expect(await statusOf(bystander)).toBe(200);
  });

  it('when the user\'s other session is still alive at the provider, then the re-check keeps it', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    await signIn(laptop, world, 'carol');
    await signIn(phone, world, 'carol');
    expect((await post(await world.op.signLogoutToken({ sid: await providerSidOf(laptop), sub: 'carol' }))).status).toBe(200);
    expect(await statusOf(laptop)).toBe(401);
    // The re-check ran (a refresh grant on one of the replicas) and the session lived through it.
    const refreshed = await eventually(async () => {
      const counts = await Promise.all(world.apps.map(async (app) => (await app.services.metrics.refreshes.get()).values.find((v) => v.labels.outcome === 'refreshed')?.value ?? 0));
      return counts.some((n) => n > 0);
    }, 3000);
    expect(refreshed).toBe(true);
    expect(await statusOf(phone)).toBe(200);
  });
});
