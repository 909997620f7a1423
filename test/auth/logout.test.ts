import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('RP-initiated logout', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  it('when an XHR client (axios Accept) calls GET /auth/logout, then it gets 200 {logoutUrl} and the session is dead', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const cookie = agent.cookieHeader(world.baseUrl);
    const response = await agent.fetch(`${world.baseUrl}/auth/logout`, {
      headers: { accept: 'application/json, text/plain, */*', origin: world.baseUrl },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { logoutUrl } = (await response.json()) as { logoutUrl: string };
    const url = new URL(logoutUrl);
    expect(url.origin).toBe(world.op.issuer);
    expect(url.pathname).toBe('/session/end');
    expect(url.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${world.baseUrl}/`);
    expect(url.searchParams.get('client_id')).toBe('board-bff');
    // The cookie is cleared, not renewed by the rolling session.
    const setCookies = response.headers.getSetCookie().filter((c) => c.startsWith('bff.sid='));
    expect(setCookies).toHaveLength(1);
    expect(setCookies[0]).toMatch(/Expires=Thu, 01 Jan 1970/);

    // The old cookie, presented again, is recognised as revoked.
    const again = await fetch(`${world.baseUrl}/api/user`, { headers: { cookie } });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'session_revoked' });
    const status = await (await fetch(`${world.baseUrl}/api/session-status`, { headers: { cookie } })).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'logout' });
  });

  it('when a page navigation calls GET /auth/logout, then it is redirected to the end-session endpoint', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const response = await agent.fetch(`${world.baseUrl}/auth/logout`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toContain(`${world.op.issuer}/session/end?`);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);
  });

  it('when POST /auth/logout comes without X-CSRF or from a foreign origin, then it is refused with 403 and the session lives', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const json = { accept: 'application/json' };
    const noHeader = await agent.fetch(`${world.baseUrl}/auth/logout`, { method: 'POST', headers: json });
    expect(noHeader.status).toBe(403);
    expect(await noHeader.json()).toMatchObject({ error: 'csrf_rejected' });
    const foreign = await agent.fetch(`${world.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { ...json, 'x-csrf': '1', origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const foreignGet = await agent.fetch(`${world.baseUrl}/auth/logout`, { headers: { ...json, origin: 'https://evil.example' } });
    expect(foreignGet.status).toBe(403);
    const crossSiteNav = await agent.fetch(`${world.baseUrl}/auth/logout`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSiteNav.status).toBe(403);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);

    const ok = await agent.fetch(`${world.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { ...json, 'x-csrf': '1', origin: world.baseUrl },
    });
    expect(ok.status).toBe(200);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);
  });

  it('when logout is asked to send the browser elsewhere (query parameters, Host, X-Forwarded-*), then every target stays the configured one', async () => {
    const hostile = '?returnTo=//evil.example&post_logout_redirect_uri=https://evil.example/&redirect_uri=https://evil.example/&next=/.//evil.example';
    const spoofed = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const navigation = await agent.fetch(`${world.baseUrl}/auth/logout${hostile}`, { headers: { accept: 'text/html', ...spoofed } });
    expect(navigation.status).toBe(302);
    const location = new URL(navigation.headers.get('location')!);
    expect(location.origin).toBe(world.op.issuer);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${world.baseUrl}/`);

    const anonymous = await fetch(`${world.baseUrl}/auth/logout${hostile}`, { headers: { accept: 'text/html', ...spoofed }, redirect: 'manual' });
    expect(anonymous.headers.get('location')).toBe(`${world.baseUrl}/`);
    const xhr = await fetch(`${world.baseUrl}/auth/logout${hostile}`, { headers: { accept: 'application/json', ...spoofed } });
    expect(await xhr.json()).toEqual({ logoutUrl: `${world.baseUrl}/` });
  });

  it('when someone without a session logs out, then they are sent to the frontend', async () => {
    const response = await fetch(`${world.baseUrl}/auth/logout`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ logoutUrl: `${world.baseUrl}/` });
  });
});
