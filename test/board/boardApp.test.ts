import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

/** The board through the real app: real sign-in at the in-process provider, real Redis and PostgreSQL, two replicas. */
describe('board API end to end', () => {
  let world: World;
  const alice = new UserAgent();
  const bob = new UserAgent();
  const carol = new UserAgent();
  beforeAll(async () => {
    world = await startWorld({ replicas: 2 });
    await signIn(alice, world, 'alice');
    await signIn(bob, world, 'bob');
    await signIn(carol, world, 'carol');
  });
  afterAll(() => world?.close());

  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const write = (agent: UserAgent, replica: number, method: string, path: string, body?: unknown) =>
    agent.fetch(at(replica, path), {
      method,
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: world.baseUrl },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('when bob comments on alice\'s post through replica A, then alice\'s stream on replica B gets comment_created', async () => {
    const created = await write(alice, 0, 'POST', '/api/posts', { title: '  Hello board  ', body: 'First post' });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { post } = (await created.json()) as { post: { id: number; title: string; author: { name: string }; canEdit: boolean } };
    expect(post).toMatchObject({ title: 'Hello board', author: { name: 'Alice Archer' }, canEdit: true });

    const stream = await openSse(at(1, '/api/events'), { cookie: alice.cookieHeader(world.baseUrl) });
    await stream.next((m) => m.data === 'connected');
    const comment = await write(bob, 0, 'POST', `/api/posts/${post.id}/comments`, { body: 'Nice one, Alice! '.repeat(20) });
    expect(comment.status).toBe(201);
    const { comment: saved } = (await comment.json()) as { comment: { id: number } };

    const event = await stream.next((m) => m.event === 'comment_created');
    const data = JSON.parse(event.data) as Record<string, unknown>;
    expect(data).toMatchObject({ type: 'comment_created', postId: post.id, commentId: saved.id, commenter: { name: 'Bob Baker' } });
    expect((data.excerpt as string).length).toBeLessThanOrEqual(140);
    const changed = await stream.next((m) => m.event === 'board_changed');
    expect(JSON.parse(changed.data)).toMatchObject({ kind: expect.any(String), postId: post.id });
    stream.close();

    const read = await alice.fetch(at(1, `/api/posts/${post.id}`));
    expect(read.headers.get('cache-control')).toBe('no-store');
    const { post: full } = (await read.json()) as { post: { comments: Array<{ id: number; canEdit: boolean }> } };
    expect(full.comments.map((c) => c.id)).toEqual([saved.id]);
    expect(full.comments[0]!.canEdit).toBe(false);
  });

  it('when bob edits or deletes alice\'s post, then 403; carol the moderator (role from the ID token) may delete it', async () => {
    const created = await write(alice, 0, 'POST', '/api/posts', { title: 'Moderate me', body: 'Body' });
    const { post } = (await created.json()) as { post: { id: number } };
    const patch = await write(bob, 1, 'PATCH', `/api/posts/${post.id}`, { title: 'Hijacked' });
    expect(patch.status).toBe(403);
    expect(await patch.json()).toMatchObject({ error: 'forbidden' });
    expect((await write(bob, 1, 'DELETE', `/api/posts/${post.id}`)).status).toBe(403);
    expect((await write(carol, 1, 'DELETE', `/api/posts/${post.id}`)).status).toBe(204);
    expect((await alice.fetch(at(0, `/api/posts/${post.id}`))).status).toBe(404);
  });

  it('when a write comes without X-CSRF, with a foreign Origin, or as a form, then it is refused and nothing is stored', async () => {
    const before = (await (await alice.fetch(at(0, '/api/posts?limit=100'))).json()) as { posts: unknown[] };
    const noHeader = await alice.fetch(at(0, '/api/posts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 't', body: 'b' }),
    });
    expect(noHeader.status).toBe(403);
    const foreign = await alice.fetch(at(0, '/api/posts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: 'https://evil.example' },
      body: JSON.stringify({ title: 't', body: 'b' }),
    });
    expect(foreign.status).toBe(403);
    const form = await alice.fetch(at(0, '/api/posts'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf': '1' },
      body: 'title=t&body=b',
    });
    expect(form.status).toBe(415);
    const after = (await (await alice.fetch(at(0, '/api/posts?limit=100'))).json()) as { posts: unknown[] };
    expect(after.posts).toHaveLength(before.posts.length);
  });

  it('when input breaks a rule, then 400 names the field and the limit', async () => {
    const response = await write(alice, 0, 'POST', '/api/posts', { title: ' ', body: 'x'.repeat(20_001) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; fields: Record<string, string> };
    expect(body.error).toBe('invalid_request');
    expect(body.fields.title).toMatch(/1.*200/);
    expect(body.fields.body).toMatch(/20,?000/);
    expect((await alice.fetch(at(0, '/api/posts/abc'))).status).toBe(400);
    expect((await alice.fetch(at(0, '/api/posts/999999'))).status).toBe(404);
  });

  it('when there is no session, then board routes answer 401', async () => {
    expect((await fetch(at(0, '/api/posts'))).status).toBe(401);
  });

  it('when a user\'s session was revoked by back-channel logout, then their writes get 401 session_revoked', async () => {
    const victim = new UserAgent();
    await signIn(victim, world, 'bob');
    const record = await world.apps[0]!.services.store.read(sessionIdOf(victim, world.baseUrl));
    const token = await world.op.signLogoutToken({ sid: record!.auth!.providerSid!, sub: 'bob' });
    const posted = await fetch(at(1, '/auth/backchannel-logout'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(posted.status).toBe(200);
    const response = await write(victim, 0, 'POST', '/api/posts', { title: 'After logout', body: 'Should not land' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'session_revoked' });
  });

  it('when the database is down, then board routes answer 503, /readyz says so, and sign-in still works', async () => {
    const down = await startWorld({ env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/test', DATABASE_CONNECT_TIMEOUT_MS: '300' }, awaitSchema: false });
    try {
      const agent = new UserAgent();
      const nav = await signIn(agent, down, 'alice');
      expect(nav.url).toBe(`${down.baseUrl}/`);
      expect((await agent.fetch(`${down.baseUrl}/api/user`)).status).toBe(200);
      const posts = await agent.fetch(`${down.baseUrl}/api/posts`);
      expect(posts.status).toBe(503);
      expect(await posts.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const readyz = await fetch(`${down.baseUrl}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toMatchObject({ checks: { database: 'down', provider: 'up', redis: 'up' } });
      const logout = await agent.fetch(`${down.baseUrl}/auth/logout`, { headers: { accept: 'application/json' } });
      expect(logout.status).toBe(200);
      expect((await agent.fetch(`${down.baseUrl}/api/user`)).status).toBe(401);
    } finally {
      await down.close();
    }
  });
});
