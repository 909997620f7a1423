import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const OLD = 'the-secret-before-the-rotation-0123456789';
const NEW = 'the-secret-after-the-rotation-9876543210ab';

/**
 * SESSION_SECRET rotation, half-way through a rolling update: replica A still signs with the old
 * secret (`old,new`), replica B already with the new one (`new,old`). Both accept either cookie, so
 * nobody is signed out — and a revocation must reach the session's streams on both.
 */
describe('a SESSION_SECRET rotation half-way through a rolling update', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, replicaEnv: [{ SESSION_SECRET: `${OLD},${NEW}` }, { SESSION_SECRET: `${NEW},${OLD}` }] });
  });
  afterAll(() => world?.close());

  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;

  it('when the provider logs alice out through the replica on the old secret, then her stream on the replica on the new one is told', async () => {
    const alice = new UserAgent();
    await signIn(alice, world, 'alice'); // through A, the BASE_URL replica: the cookie is signed with OLD
    expect((await alice.fetch(at(1, '/api/user'))).status).toBe(200);
    const stream = await openSse(at(1, '/api/events'), { cookie: alice.cookieHeader(world.baseUrl) });
    expect(stream.status).toBe(200);
    await stream.next((m) => m.data === 'connected');

    const providerSid = (await world.apps[0]!.services.store.read(sessionIdOf(alice, world.baseUrl)))!.auth!.providerSid!;
    const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' });
    const posted = await fetch(at(0, '/auth/backchannel-logout'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(posted.status).toBe(200);

    const told = await stream.next((m) => m.event === 'session_invalidated');
    expect(JSON.parse(told.data)).toMatchObject({ type: 'session_invalidated', reason: 'backchannel_logout' });
    await stream.ended;
  });

  it('when bob lists his sessions on either replica, then his session has the same public id on both', async () => {
    const bob = new UserAgent();
    await signIn(bob, world, 'bob');
    const ids = await Promise.all(
      [0, 1].map(async (replica) => ((await (await bob.fetch(at(replica, '/api/sessions'))).json()) as { sessions: { sessionId: string }[] }).sessions.map((s) => s.sessionId)),
    );
    expect(ids[0]).toHaveLength(1);
    expect(ids[1]).toEqual(ids[0]);
  });
});
