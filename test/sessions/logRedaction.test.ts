import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('logs', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ env: { LOG_LEVEL: 'trace' } });
  });
  afterAll(() => world?.close());

  it('when a user signs in, calls the API and logs out, then no cookie, token, code or session id reaches the log', async () => {
    const agent = new UserAgent();
    const nav = await signIn(agent, world, 'alice');
    const callback = new URL(nav.hops.find((hop) => hop.includes('/auth/callback'))!);
    const sid = sessionIdOf(agent, world.baseUrl);
    const record = (await world.apps[0]!.services.store.read(sid))!;
    await agent.fetch(`${world.baseUrl}/api/user`, { headers: { authorization: 'Bearer should-not-appear-0123456789' } });
    await agent.fetch(`${world.baseUrl}/api/sessions`);
    await agent.fetch(`${world.baseUrl}/auth/logout`, { headers: { accept: 'application/json' } });

    const secrets = {
      'session id': sid,
      'cookie value': agent.cookie(world.baseUrl, 'bff.sid') ?? encodeURIComponent(`s:${sid}`),
      'access token': record.auth!.tokens.accessToken,
      'refresh token': record.auth!.tokens.refreshToken!,
      'id token': record.auth!.tokens.idToken,
      'authorization code': callback.searchParams.get('code')!,
      state: callback.searchParams.get('state')!,
      'authorization header': 'should-not-appear-0123456789',
    };
    const logs = world.apps[0]!.logs.join('\n');
    expect(logs).toContain('signed in');
    expect(logs).toContain('/auth/callback');
    for (const [name, value] of Object.entries(secrets)) {
      expect(value, name).toBeTruthy();
      expect(logs.includes(value), `${name} appears in the log`).toBe(false);
    }
  });
});
