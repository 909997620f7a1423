import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('two replicas sharing real Redis', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2 });
  });
  afterAll(() => world?.close());

  const [a, b] = [0, 1];
  const url = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;

  it('when a user signs in on replica A, then replica B accepts the same cookie', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const onA = await agent.fetch(url(a, '/api/user'));
    const onB = await agent.fetch(url(b, '/api/user'));
    expect(onA.status).toBe(200);
    expect(onB.status).toBe(200);
    expect(await onB.json()).toMatchObject({ user: { id: 'alice' } });
  });

  it('when sessions come and go, then the session index holds exactly the live session ids', async () => {
    const { index, issuer } = { index: world.apps[a]!.services.index, issuer: world.op.issuer };
    const first = new UserAgent();
    const second = new UserAgent();
    await signIn(first, world, 'bob');
    await signIn(second, world, 'bob');
    const sidOf = (agent: UserAgent) => sessionIdOf(agent, world.baseUrl);
    const bobSessions = await index.byUser(issuer, 'bob');
    expect(new Set(bobSessions)).toEqual(new Set([sidOf(first), sidOf(second)]));
    const firstRecord = await world.apps[a]!.services.store.read(sidOf(first));
    expect(firstRecord?.auth?.providerSid).toBeTruthy();
    expect(await index.byProviderSession(issuer, firstRecord!.auth!.providerSid!)).toEqual([sidOf(first)]);

    const logout = await first.fetch(url(b, '/auth/logout'), { headers: { accept: 'application/json' } });
    expect(logout.status).toBe(200);
    expect(await index.byUser(issuer, 'bob')).toEqual([sidOf(second)]);
    expect(await index.byProviderSession(issuer, firstRecord!.auth!.providerSid!)).toEqual([]);
    expect((await first.fetch(url(a, '/api/user'))).status).toBe(401);
    expect((await second.fetch(url(a, '/api/user'))).status).toBe(200);
  });

  it('when a user lists sessions and signs out another device, then only that device dies, on every replica', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    await signIn(laptop, world, 'carol');
    await signIn(phone, world, 'carol');
    const list = await laptop.fetch(url(a, '/api/sessions'));
    const { sessions } = (await list.json()) as { sessions: Array<{ sessionId: string; current: boolean; loginTime: string; userId: string; userName: string }> };
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    for (const s of sessions) {
      expect(s.userId).toBe('carol');
      expect(s.userName).toBe('Carol Cook');
      expect(new Date(s.loginTime).toISOString()).toBe(s.loginTime);
      // An opaque handle, never the cookie's session id.
      expect(decodeURIComponent(laptop.cookie(world.baseUrl, 'bff.sid')!)).not.toContain(s.sessionId);
    }
    const other = sessions.find((s) => !s.current)!;

    const refused = await laptop.fetch(url(b, `/api/sessions/${other.sessionId}`), { method: 'DELETE' });
    expect(refused.status).toBe(403);
    const removed = await laptop.fetch(url(b, `/api/sessions/${other.sessionId}`), {
      method: 'DELETE',
      headers: { 'x-csrf': '1', origin: world.baseUrl },
    });
    expect(removed.status).toBe(200);
    const phoneAnswer = await phone.fetch(url(a, '/api/user'));
    expect(phoneAnswer.status).toBe(401);
    expect(await phoneAnswer.json()).toMatchObject({ error: 'session_revoked' });
    expect((await laptop.fetch(url(a, '/api/user'))).status).toBe(200);

    const unknown = await laptop.fetch(url(a, `/api/sessions/not-a-session`), { method: 'DELETE', headers: { 'x-csrf': '1' } });
    expect(unknown.status).toBe(404);
  });

  it('when a moderator asks for all sessions, then other users appear; a normal user asking gets 403', async () => {
    const moderator = new UserAgent();
    const user = new UserAgent();
    await signIn(moderator, world, 'carol');
    await signIn(user, world, 'alice');
    const all = (await (await moderator.fetch(url(a, '/api/sessions?all=true'))).json()) as { sessions: Array<{ userId: string }> };
    expect(all.sessions.map((s) => s.userId)).toContain('alice');
    const refused = await user.fetch(url(a, '/api/sessions?all=true'));
    expect(refused.status).toBe(403);
  });

  it('when there is no cookie, then /api routes answer 401 unauthenticated and session-status says so', async () => {
    const response = await fetch(url(b, '/api/user'));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'unauthenticated', error_description: 'Sign in first' });
    expect(await (await fetch(url(b, '/api/session-status'))).json()).toEqual({ authenticated: false, sessionActive: false });
  });
});
