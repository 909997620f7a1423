import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_AS_COOKIE } from '../../dev/oidcProvider.js';
import { MAX_LOGIN_ATTEMPTS } from '../../src/auth/loginCookies.js';
import { UserAgent } from '../support/userAgent.js';
import { startWorld, type World } from '../support/world.js';

describe('login-state cookies stay bounded whatever the browser does', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  const loginStateCookies = (agent: UserAgent) =>
    agent.cookieHeader(world.baseUrl).split('; ').filter((pair) => pair.startsWith('bff.auth.'));

  /** GET /auth/login; returns the provider URL the browser would go to next. */
  async function startLogin(agent: UserAgent, query = ''): Promise<string> {
    const response = await agent.fetch(`${world.baseUrl}/auth/login${query}`);
    expect(response.status).toBe(302);
    return response.headers.get('location')!;
  }

  /** Continues an attempt at the provider as alice, through the callback; returns the callback's answer. */
  async function finishLogin(agent: UserAgent, authorizationUrl: string) {
    agent.setCookie(world.op.issuer, LOGIN_AS_COOKIE, 'alice');
    const nav = await agent.navigate(authorizationUrl, { headers: { accept: 'application/json' } });
    const callbackAt = nav.hops.findIndex((hop) => hop.startsWith(`${world.baseUrl}/auth/callback`));
    expect(callbackAt).toBeGreaterThan(0);
    return { nav, afterCallback: nav.hops[callbackAt + 1] };
  }

  it('when a browser starts 45 sign-ins and abandons them, then the Cookie header stays small and the latest attempt signs in', async () => {
    const agent = new UserAgent();
    const attempts: string[] = [];
    for (let i = 0; i < 45; i++) attempts.push(await startLogin(agent, `?returnTo=/posts/${i}`));

    const header = agent.cookieHeader(world.baseUrl);
    console.log(`after 45 abandoned sign-ins: ${loginStateCookies(agent).length} login-state cookies, Cookie header ${header.length} bytes`);
    expect(loginStateCookies(agent)).toHaveLength(MAX_LOGIN_ATTEMPTS);
    expect(header.length).toBeLessThan(4096);

    const { afterCallback } = await finishLogin(agent, attempts.at(-1)!);
    expect(afterCallback).toBe(`${world.baseUrl}/posts/44`);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
    expect(loginStateCookies(agent)).toHaveLength(MAX_LOGIN_ATTEMPTS - 1);

    // The oldest attempts were expired in the browser: their callbacks answer a clear 400, not a 431.
    const { nav } = await finishLogin(agent, attempts[0]!);
    expect(nav.response.status).toBe(400);
    expect(JSON.parse(nav.body)).toMatchObject({ error: 'login_state_missing' });
  });

  it('when every attempt carries the longest returnTo accepted, then the Cookie header still stays well below 16 KiB', async () => {
    const agent = new UserAgent();
    const longest = `/${'p'.repeat(1000)}`;
    const attempts: string[] = [];
    for (let i = 0; i < 12; i++) attempts.push(await startLogin(agent, `?returnTo=${longest}`));
    const header = agent.cookieHeader(world.baseUrl);
    console.log(`after 12 sign-ins with a ${longest.length}-character returnTo: Cookie header ${header.length} bytes`);
    expect(header.length).toBeLessThan(12 * 1024);
    const { afterCallback } = await finishLogin(agent, attempts.at(-1)!);
    expect(afterCallback).toBe(`${world.baseUrl}${longest}`);
  });

  it('when three tabs start signing in at once, then each completes, in any order', async () => {
    const agent = new UserAgent();
    const tabs = await Promise.all([1, 2, 3].map((tab) => startLogin(agent, `?returnTo=/tab/${tab}`)));
    expect(loginStateCookies(agent)).toHaveLength(3);
    for (const tab of [3, 1, 2]) {
      const { afterCallback } = await finishLogin(agent, tabs[tab - 1]!);
      expect(afterCallback).toBe(`${world.baseUrl}/tab/${tab}`);
    }
    expect(loginStateCookies(agent)).toHaveLength(0);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
  });

  it('when a browser still holds many cookies of an older naming, then a new sign-in expires them and completes', async () => {
    const agent = new UserAgent();
    for (let i = 0; i < 20; i++) agent.setCookie(world.baseUrl, `bff.auth.zzLegacy${String(i).padStart(8, '0')}`, 'x'.repeat(400));
    const attempt = await startLogin(agent);
    expect(loginStateCookies(agent)).toHaveLength(MAX_LOGIN_ATTEMPTS);
    const second = await startLogin(agent);
    // The older naming counts as oldest: the two new attempts survive, not the legacy cookies.
    expect(loginStateCookies(agent).filter((pair) => !pair.includes('Legacy'))).toHaveLength(2);
    expect((await finishLogin(agent, second)).afterCallback).toBe(`${world.baseUrl}/`);
    const { afterCallback } = await finishLogin(agent, attempt);
    expect(afterCallback).toBe(`${world.baseUrl}/`);
  });
});
