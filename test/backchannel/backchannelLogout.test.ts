import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';
import { startTestApp } from '../support/testApp.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /auth/backchannel-logout against a real OpenID Provider', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2 });
  });
  afterAll(() => world?.close());

  const endpoint = (replica = 0) => `${world.apps[replica]!.url}/auth/backchannel-logout`;
  const post = (body: string, headers: Record<string, string> = FORM, replica = 0) =>
    fetch(endpoint(replica), { method: 'POST', headers, body });
  const providerSidOf = async (agent: UserAgent) => {
    return (await world.apps[0]!.services.store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!;
  };

  it('when the provider ends one of alice\'s sessions, then its logout token kills exactly that session', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    await signIn(laptop, world, 'alice');
    await signIn(phone, world, 'alice');

    // Alice signs out at the provider itself (its end-session page, confirmed), in the laptop's browser.
    const page = await laptop.navigate(`${world.op.issuer}/session/end?client_id=board-bff`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    const action = /action="([^"]+)"/.exec(page.body)?.[1];
    expect(xsrf).toBeDefined();
    await laptop.navigate(new URL(action!, world.op.issuer).href, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });

    const laptopAnswer = await laptop.fetch(`${world.apps[1]!.url}/api/user`);
    expect(laptopAnswer.status).toBe(401);
    expect(await laptopAnswer.json()).toMatchObject({ error: 'session_revoked' });
    const status = await (await laptop.fetch(`${world.apps[0]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'backchannel_logout' });
    expect((await phone.fetch(`${world.apps[1]!.url}/api/user`)).status).toBe(200);
  });

  it('when a token names only sub, then every session of that user ends and other users keep theirs', async () => {
    const one = new UserAgent();
    const two = new UserAgent();
    const other = new UserAgent();
    await signIn(one, world, 'bob');
    await signIn(two, world, 'bob');
    await signIn(other, world, 'carol');
    const token = await world.op.signLogoutToken({ sub: 'bob' });
    const response = await post(new URLSearchParams({ logout_token: token }).toString(), FORM, 1);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    for (const agent of [one, two]) expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);
    expect((await other.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
  });

  it('when sid and sub are both present but the sub does not own that session, then nothing is revoked', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const token = await world.op.signLogoutToken({ sid: await providerSidOf(agent), sub: 'alice' });
    expect((await post(new URLSearchParams({ logout_token: token }).toString())).status).toBe(200);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
  });

  it('when the sid is unknown, then the answer is still 200', async () => {
    const token = await world.op.signLogoutToken({ sid: 'no-such-session', sub: 'nobody' });
    const response = await post(new URLSearchParams({ logout_token: token }).toString());
    expect(response.status).toBe(200);
  });

  it('when the same token is posted twice (jti replay), then the second answer is 400, on any replica', async () => {
    const token = await world.op.signLogoutToken({ sub: 'nobody' });
    const body = new URLSearchParams({ logout_token: token }).toString();
    expect((await post(body, FORM, 0)).status).toBe(200);
    const replay = await post(body, FORM, 1);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    expect(await replay.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('replay') });
  });

  it.each([
    ['beyond what Redis can keep (1e308)', 1e308],
    ['far enough that its milliseconds print in exponent notation (2^60 s)', 2 ** 60],
  ])('when a token\'s exp is %s, then its jti is still recorded: the replay is 400', async (_case, exp) => {
    const token = await world.op.signLogoutToken({ sub: 'nobody', exp });
    const body = new URLSearchParams({ logout_token: token }).toString();
    expect((await post(body, FORM, 0)).status).toBe(200);
    const replay = await post(body, FORM, 1);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error_description: expect.stringContaining('replay') });
  });

  it('when the conformance suite adds an unknown form field, then the token is still accepted', async () => {
    const token = await world.op.signLogoutToken({ sub: 'nobody', extra: 'claim' }, { alg: 'RS256', kid: 'test-rs256' });
    const response = await post(new URLSearchParams({ logout_token: token, unknown_field: 'x' }).toString());
    expect(response.status).toBe(200);
  });

  it.each([
    ['JSON instead of a form', JSON.stringify({ logout_token: 'x' }), { 'content-type': 'application/json' }, /x-www-form-urlencoded/],
    ['no logout_token', 'something=else', FORM, /required/],
    ['two logout_token values', 'logout_token=a&logout_token=b', FORM, /exactly one/],
    ['an empty logout_token', 'logout_token=', FORM, /required/],
    ['a garbage token', 'logout_token=abc.def.ghi', FORM, /Invalid logout_token/],
  ])('when the request carries %s, then it is 400 invalid_request with no-store', async (_case, body, headers, reason) => {
    const response = await post(body, headers);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const json = (await response.json()) as { error: string; error_description: string };
    expect(json.error).toBe('invalid_request');
    expect(json.error_description).toMatch(reason);
  });

  it('when the token is signed correctly but for another audience, then it is 400 and the session lives', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const token = await world.op.signLogoutToken({ sid: await providerSidOf(agent), aud: 'another-client' });
    const response = await post(new URLSearchParams({ logout_token: token }).toString());
    expect(response.status).toBe(400);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
  });

  it('when the body is larger than the endpoint accepts, then it is refused without processing', async () => {
    const response = await post(`logout_token=${'a'.repeat(64 * 1024)}`);
    expect(response.status).toBe(413);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('when the body streams past the limit without a Content-Length, then reading stops with 413', async () => {
    const chunk = new TextEncoder().encode(`logout_token=${'a'.repeat(8 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Bounded: at most 64 chunks of 8 KiB, far past the 16 KiB limit.
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(endpoint(), { method: 'POST', headers: FORM, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it.each([
    [{ 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }],
    [{ 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }],
  ])('when the form is sent as %o, then it is refused with 415 and no-store', async (headers) => {
    const token = await world.op.signLogoutToken({ sub: 'nobody' });
    const response = await post(new URLSearchParams({ logout_token: token }).toString(), headers);
    expect(response.status).toBe(415);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('when the form declares charset=UTF-8, then it is accepted', async () => {
    const token = await world.op.signLogoutToken({ sub: 'nobody' });
    const response = await post(new URLSearchParams({ logout_token: token }).toString(), {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect(response.status).toBe(200);
  });

  it('when the endpoint is called cross-origin, then no CORS headers are given', async () => {
    const response = await fetch(endpoint(), { method: 'OPTIONS', headers: { origin: world.baseUrl, 'access-control-request-method': 'POST' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    const get = await fetch(endpoint(), { headers: { origin: world.baseUrl } });
    expect(get.status).toBe(405);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when Redis is unreachable, then a valid token gets 503 (the provider may retry), not 200 or 400', async () => {
    const broken = await startTestApp({ issuer: world.op.issuer, env: { REDIS_URL: 'redis://127.0.0.1:9', REDIS_COMMAND_TIMEOUT_MS: '200' } });
    try {
      const token = await world.op.signLogoutToken({ sub: 'alice' });
      const response = await fetch(`${broken.url}/auth/backchannel-logout`, {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const ready = await fetch(`${broken.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { redis: 'down' } });
    } finally {
      await broken.close();
    }
  });
});
