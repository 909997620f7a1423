import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SECRET } from '../../dev/oidcProvider.js';
import { sessionIssuedAt } from '../../src/sessions/sessionIssuedAt.js';
import { sessionHandleOf } from '../../src/sessions/sessionHandle.js';
import { holdIndexWrite } from '../support/holdIndexWrite.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const TEXT = { 'content-type': 'text/plain; charset=ISO-8859-1' };

/**
 * Issue 14: Keycloak's admin-URL actions (`k_logout` for realm "Sign out all active sessions",
 * `k_push_not_before` for "Revocation → Push") against two replicas on real Redis. The actions are
 * signed with the in-process provider's published realm key, in the shape Keycloak 26 sends.
 */
describe('Keycloak admin-URL actions', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2 });
  });
  afterAll(() => world?.close());

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  /** Keycloak 26's LogoutAction / PushNotBeforeAction (ResourceAdminManager): a bare JWS, header typ JWT. */
  const action = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: 'test-rs256', typ: 'JWT' }) =>
    world.op.signLogoutToken(
      {
        iss: undefined, aud: undefined, iat: undefined, exp: undefined, jti: undefined, events: undefined,
        id: crypto.randomUUID(),
        expiration: nowSeconds() + 30,
        resource: 'board-bff',
        action: 'LOGOUT',
        notBefore: nowSeconds(),
        ...claims,
      },
      header,
    );
  const post = (path: 'k_logout' | 'k_push_not_before', body: string, replica = 1, headers: Record<string, string> = TEXT) =>
    fetch(`${world.apps[replica]!.url}/auth/keycloak/${path}`, { method: 'POST', headers, body });
  const userStatus = async (agent: UserAgent, replica = 0) => {
    const response = await agent.fetch(`${world.apps[replica]!.url}/api/user`);
    return { status: response.status, body: (await response.json()) as { error?: string } };
  };
  /** The next whole second, waited for: sessions signed in before it have iat < it. */
  const nextSecond = async () => {
    const second = nowSeconds() + 1;
    await new Promise((resolve) => setTimeout(resolve, second * 1000 - Date.now() + 20));
    return second;
  };

  it('when Keycloak signs out the whole realm (k_logout, notBefore = now), then every older session dies on every replica, streams told, and a later sign-in lives', async () => {
    const agents = [new UserAgent(), new UserAgent(), new UserAgent()];
    await signIn(agents[0]!, world, 'alice');
    await signIn(agents[1]!, world, 'bob');
    await signIn(agents[2]!, world, 'carol');
    const stream = await openSse(`${world.apps[0]!.url}/api/events`, { cookie: agents[0]!.cookieHeader(world.baseUrl) });
    await stream.next((m) => m.data === 'connected');
    const notBefore = await nextSecond();

    const response = await post('k_logout', await action({ notBefore }));
    expect(response.status).toBe(204);
    expect(response.headers.get('cache-control')).toBe('no-store');

    const told = await stream.next((m) => m.event === 'session_invalidated', 2000);
    expect(JSON.parse(told.data)).toMatchObject({ reason: 'backchannel_logout' });
    for (const agent of agents) {
      for (const replica of [0, 1]) expect(await userStatus(agent, replica)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
    }
    const later = new UserAgent();
    await signIn(later, world, 'alice');
    expect((await userStatus(later)).status).toBe(200);
    stream.close();
  });

  it('when Keycloak pushes a not-before (k_push_not_before), then older sessions die, and a record restored afterwards from a backup cannot come back', async () => {
    const old = new UserAgent();
    await signIn(old, world, 'bob');
    const sid = sessionIdOf(old, world.baseUrl);
    const backup = await world.apps[0]!.services.store.read(sid);
    const notBefore = await nextSecond();
    const fresh = new UserAgent();
    await signIn(fresh, world, 'bob');

    expect((await post('k_push_not_before', await action({ action: 'PUSH_NOT_BEFORE', notBefore }))).status).toBe(204);
    expect(await userStatus(old)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
    expect((await userStatus(fresh)).status).toBe(200);

    // The session record comes back (a Redis restore from before the push): the cookie still reads revoked.
    await world.apps[0]!.services.store.write(sid, backup!);
    expect(await userStatus(old, 1)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
    expect(await world.apps[0]!.services.store.read(sid)).toBeNull();
    expect((await userStatus(fresh, 1)).status).toBe(200);
  });

  it('when a not-before voids a session the sweep missed (a record restored, or written as the sweep ran), then /api/sessions no longer lists it', async () => {
    const missed = new UserAgent();
    await signIn(missed, world, 'carol');
    const notBefore = await nextSecond();
    const current = new UserAgent();
    await signIn(current, world, 'carol');
    const handles = async () =>
      ((await (await current.fetch(`${world.apps[1]!.url}/api/sessions`)).json()) as { sessions: { sessionId: string }[] }).sessions.map((s) => s.sessionId).sort();
    expect(await handles()).toHaveLength(2);

    // Raised without a sweep: what a session the sweep did not find looks like to the listing.
    await world.apps[0]!.services.notBefore.raise(world.op.issuer, notBefore);

    expect(await handles()).toEqual([sessionHandleOf(sessionIdOf(current, world.baseUrl))]);
    expect(await userStatus(missed)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
  });

  it('when a session was signed in within the very second of a realm sign-out, then the LOGOUT ends it, while a push of that second spares its like', async () => {
    const issuedAtOf = async (agent: UserAgent) => sessionIssuedAt((await world.apps[0]!.services.store.read(sessionIdOf(agent, world.baseUrl)))!.auth!);
    const loggedOut = new UserAgent();
    await signIn(loggedOut, world, 'alice');
    // Keycloak's notBefore has whole seconds: a session created just before the call carries the same second.
    expect((await post('k_logout', await action({ notBefore: await issuedAtOf(loggedOut) }))).status).toBe(204);
    expect(await userStatus(loggedOut)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });

    const pushed = new UserAgent();
    await signIn(pushed, world, 'bob');
    expect((await post('k_push_not_before', await action({ action: 'PUSH_NOT_BEFORE', notBefore: await issuedAtOf(pushed) }))).status).toBe(204);
    expect((await userStatus(pushed)).status).toBe(200);
  });

  it('when a LOGOUT names Keycloak session ids, then exactly those sessions end', async () => {
    const named = new UserAgent();
    const other = new UserAgent();
    await signIn(named, world, 'carol');
    await signIn(other, world, 'carol');
    const providerSid = (await world.apps[0]!.services.store.read(sessionIdOf(named, world.baseUrl)))!.auth!.providerSid!;
    expect((await post('k_logout', await action({ notBefore: 0, keycloakSessionIds: [providerSid], adapterSessionIds: [] }))).status).toBe(204);
    expect(await userStatus(named)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
    expect((await userStatus(other)).status).toBe(200);
  });

  it('when a LOGOUT naming a Keycloak session id lands while a callback into that session has not indexed its session yet, then that session is dead on every replica', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const first = sessionIdOf(agent, world.baseUrl);
    const { services } = world.apps[0]!;
    const providerSid = (await services.store.read(first))!.auth!.providerSid!;
    const hold = holdIndexWrite(services.index, providerSid);
    const login = signIn(agent, world, 'carol');
    try {
      await hold.atIndexWrite;
      expect((await post('k_logout', await action({ notBefore: 0, keycloakSessionIds: [providerSid], adapterSessionIds: [] }))).status).toBe(204);
    } finally {
      hold.release();
    }
    expect((await login).response.status).toBe(401);
    expect(sessionIdOf(agent, world.baseUrl)).not.toBe(first);
    expect(await userStatus(agent, 0)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
    expect(await userStatus(agent, 1)).toMatchObject({ status: 401, body: { error: 'session_revoked' } });
  });

  describe('refused actions change nothing', () => {
    let victim: UserAgent;
    beforeAll(async () => {
      victim = new UserAgent();
      await signIn(victim, world, 'alice');
    });

    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const future = () => nowSeconds() + 60;
    const cases: Array<[string, 'k_logout' | 'k_push_not_before', () => Promise<string>, RegExp]> = [
      ['signed by a key that is not the realm\'s', 'k_logout', async () => {
        const stranger = (await generateKeyPair('RS256')).privateKey;
        return new SignJWT({ id: crypto.randomUUID(), expiration: nowSeconds() + 30, resource: 'board-bff', action: 'LOGOUT', notBefore: future() })
          .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256', typ: 'JWT' })
          .sign(stranger);
      }, /signature/],
      ['for another client (resource)', 'k_logout', () => action({ resource: 'other-client', notBefore: future() }), /resource/],
      ['expired', 'k_logout', () => action({ expiration: nowSeconds() - 120, notBefore: future() }), /expired/],
      ['without expiration', 'k_logout', () => action({ expiration: undefined, notBefore: future() }), /expiration/],
      ['the other action on this path', 'k_logout', () => action({ action: 'PUSH_NOT_BEFORE', notBefore: future() }), /action must be LOGOUT/],
      ['a LOGOUT on the push path', 'k_push_not_before', () => action({ notBefore: future() }), /action must be PUSH_NOT_BEFORE/],
      ['alg none', 'k_logout', async () =>
        `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ id: crypto.randomUUID(), expiration: nowSeconds() + 30, resource: 'board-bff', action: 'LOGOUT', notBefore: future() })}.`, /alg "none"/],
      ['HS256 with the client secret', 'k_logout', () =>
        new SignJWT({ id: crypto.randomUUID(), expiration: nowSeconds() + 30, resource: 'board-bff', action: 'LOGOUT', notBefore: future() })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .sign(new TextEncoder().encode(CLIENT_SECRET)), /symmetric alg/],
      ['not a JWS', 'k_logout', async () => 'this is not a token', /not a JWS/],
      ['a logout token instead of an action', 'k_logout', () => world.op.signLogoutToken({ sub: 'alice' }), /header typ|action must be/],
    ];

    it.each(cases)('when the action is %s, then it is 400 and the session lives', async (_case, path, make, reason) => {
      const notBeforeBefore = await world.apps[0]!.services.notBefore.get(world.op.issuer);
      const response = await post(path, await make());
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(reason) });
      expect((await userStatus(victim)).status).toBe(200);
      expect(await world.apps[0]!.services.notBefore.get(world.op.issuer)).toBe(notBeforeBefore);
    });

    it.each([
      ['', nowSeconds() + 30],
      [' whose expiration is the latest accepted (2^53 − 1 s)', Number.MAX_SAFE_INTEGER],
    ])('when a valid action%s is replayed, then the second post is 400 on any replica', async (_case, expiration) => {
      const token = await action({ notBefore: 1, expiration });
      expect((await post('k_logout', token, 0)).status).toBe(204);
      const replay = await post('k_logout', token, 1);
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error_description: expect.stringContaining('replay') });
      expect((await userStatus(victim)).status).toBe(200);
    });

    it('when the body is JSON or empty, or the method is GET, then it is refused without processing', async () => {
      expect((await post('k_logout', JSON.stringify({ token: 'x' }), 1, { 'content-type': 'application/json' })).status).toBe(400);
      expect((await post('k_logout', '', 1)).status).toBe(400);
      const get = await fetch(`${world.apps[0]!.url}/auth/keycloak/k_logout`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect((await post('k_logout', 'a'.repeat(128 * 1024))).status).toBe(413);
      expect((await userStatus(victim)).status).toBe(200);
    });
  });
});
