import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('sign-in through the code flow against a real OpenID Provider', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  it('when alice completes the flow, then /api/user returns her and the cookie is HttpOnly and SameSite=Lax', async () => {
    const agent = new UserAgent();
    const nav = await signIn(agent, world, 'alice', '?returnTo=/posts/7');

    expect(nav.url).toBe(`${world.baseUrl}/posts/7`);
    const callbackHop = nav.hops.find((hop) => hop.includes('/auth/callback'));
    expect(callbackHop).toBeDefined();
    const user = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(user.status).toBe(200);
    expect(await user.json()).toEqual({
      user: { id: 'alice', username: 'alice', name: 'Alice Archer', email: 'alice@example.test', roles: ['user'] },
    });
    const status = await (await agent.fetch(`${world.baseUrl}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: true });
  });

  it('when /auth/login starts, then it redirects with PKCE S256, state and nonce, and seals them in a Lax HttpOnly cookie', async () => {
    const agent = new UserAgent();
    const response = await agent.fetch(`${world.baseUrl}/auth/login`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(world.op.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe(`${world.baseUrl}/auth/callback`);
    const setCookie = response.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/bff\.auth\.[\w.-]+=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toContain(location.searchParams.get('state')!.slice(16));
  });

  it('when the session id changes at login, then the pre-login cookie value is not reused (no fixation)', async () => {
    const agent = new UserAgent();
    agent.setCookie(world.baseUrl, 'bff.sid', 's:attacker-chosen.sig');
    await signIn(agent, world, 'bob');
    const sid = agent.cookie(world.baseUrl, 'bff.sid');
    expect(sid).toBeDefined();
    expect(sid).not.toContain('attacker-chosen');
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
  });

  // Every way a browser could read a returnTo as another site: the target is judged as the URL
  // parser resolves it (dot segments, backslashes, tabs and newlines dropped, encoded dots), and
  // again after each percent-decoding a frontend router might apply.
  it.each([
    ['//evil.example/steal'],
    ['https://evil.example/'],
    ['http:/evil.example'],
    ['/\\evil.example'],
    ['/\\/evil.example'],
    ['\\\\evil.example'],
    ['///evil.example'],
    ['/.//evil.example'],
    ['/./\\evil.example'],
    ['/..//evil.example'],
    ['/a/../..//evil.example'],
    ['/%2e//evil.example'],
    ['/%2E%2E//evil.example'],
    ['/.%2e//evil.example'],
    ['/\t/evil.example'],
    ['/\n/evil.example'],
    ['/\r\n/evil.example'],
    ['\t//evil.example'],
    [' //evil.example'],
    ['/%2F%2Fevil.example'],
    ['/%2f%2fevil.example'],
    ['/%5Cevil.example'],
    ['/%5C%5Cevil.example'],
    ['/%252F%252Fevil.example'],
    ['/.%2F%2Fevil.example'],
    ['/%09/evil.example'],
    ['javascript:alert(1)'],
    ['data:text/html,hi'],
    ['evil'],
  ])('when returnTo is %j, then login is refused with 400 and no redirect happens', async (returnTo) => {
    const agent = new UserAgent();
    const response = await agent.fetch(`${world.baseUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('returnTo') });
  });

  it('when returnTo resolves to more than 1024 characters, then login is refused with 400 (login-state cookies stay small)', async () => {
    const json = { headers: { accept: 'application/json' } };
    const agent = new UserAgent();
    const tooLong = await agent.fetch(`${world.baseUrl}/auth/login?returnTo=/${'a'.repeat(1100)}`, json);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('returnTo') });
    // Percent-encoding lengthens the resolved URL: the limit applies to what the cookie would hold.
    const expands = await agent.fetch(`${world.baseUrl}/auth/login?returnTo=/${encodeURIComponent('é'.repeat(300))}`, json);
    expect(expands.status).toBe(400);
  });

  it('when returnTo is given twice, then login is refused with 400 rather than picking one', async () => {
    const response = await new UserAgent().fetch(`${world.baseUrl}/auth/login?returnTo=/a&returnTo=//evil.example`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('returnTo') });
  });

  it.each([
    ['/posts/7', '/posts/7'],
    ['/posts/./7/../8?tab=comments#c3', '/posts/8?tab=comments#c3'],
    ['/posts/%2e%2e/x', '/x'],
    ['/search?q=//evil.example&next=https://evil.example/', '/search?q=//evil.example&next=https://evil.example/'],
    ['/a b/@evil.example', '/a%20b/@evil.example'],
    ['/caf\u00e9', '/caf%C3%A9'],
    ['/x\ty', '/xy'],
  ])('when returnTo is %j, then the callback redirects to exactly the resolved same-origin URL', async (returnTo, resolvedPath) => {
    const agent = new UserAgent();
    const nav = await signIn(agent, world, 'alice', `?returnTo=${encodeURIComponent(returnTo)}`);
    const callbackAt = nav.hops.findIndex((hop) => hop.startsWith(`${world.baseUrl}/auth/callback`));
    expect(callbackAt).toBeGreaterThan(0);
    expect(nav.hops[callbackAt + 1]).toBe(`${world.baseUrl}${resolvedPath}`);
    expect(new URL(nav.url).origin).toBe(world.baseUrl);
  });

  it('when the user refuses at the provider, then the callback answers 403 access_denied, not a 500', async () => {
    const agent = new UserAgent();
    const nav = await signIn(agent, world, 'deny');
    expect(nav.response.status).toBe(403);
    expect(nav.url).toContain('/auth/callback');
    expect(nav.body).toContain('access_denied');
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);
  });

  it('when the state does not match the login cookie, then the callback answers 400', async () => {
    const agent = new UserAgent();
    const start = await agent.fetch(`${world.baseUrl}/auth/login`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const tampered = `${state.slice(0, 16)}${'x'.repeat(state.length - 16)}`;
    const response = await agent.fetch(`${world.baseUrl}/auth/callback?code=abc&state=${tampered}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_state' });
  });

  it('when the callback has no login cookie, no code or no state, then it answers a clear 400', async () => {
    const agent = new UserAgent();
    const json = { headers: { accept: 'application/json' } };
    const noCookie = await agent.fetch(`${world.baseUrl}/auth/callback?code=abc&state=unknownstate1234567`, json);
    expect(noCookie.status).toBe(400);
    expect(await noCookie.json()).toMatchObject({ error: 'login_state_missing' });
    const noCode = await agent.fetch(`${world.baseUrl}/auth/callback?state=abc`, json);
    expect(noCode.status).toBe(400);
    expect(await noCode.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('code') });
    const noState = await agent.fetch(`${world.baseUrl}/auth/callback?code=abc`, json);
    expect(await noState.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('state') });
  });

  it('when a browser hits a failed callback, then it gets a readable HTML page with the reason', async () => {
    const agent = new UserAgent();
    const response = await agent.fetch(`${world.baseUrl}/auth/callback?error=access_denied&error_description=%3Cscript%3E`, {
      headers: { accept: 'text/html' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const page = await response.text();
    expect(page).toContain('access_denied');
    expect(page).not.toContain('<script>');
  });

  it('when an authorization code is replayed, then the second callback answers 400 invalid_grant', async () => {
    const agent = new UserAgent();
    agent.setCookie(world.op.issuer, 'op_login_as', 'alice');
    // Walk the flow by hand up to the callback, then present its URL twice.
    let url = `${world.baseUrl}/auth/login`;
    let callback: string | undefined;
    for (let hops = 0; hops < 20 && !callback; hops++) {
      const response = await agent.fetch(url);
      url = new URL(response.headers.get('location')!, url).href;
      if (url.startsWith(`${world.baseUrl}/auth/callback`)) callback = url;
    }
    expect(callback).toBeDefined();
    const loginCookies = agent.cookieHeader(world.baseUrl);
    expect((await agent.fetch(callback!)).status).toBe(302);
    const replay = await agent.fetch(callback!, { headers: { cookie: loginCookies, accept: 'application/json' } });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
