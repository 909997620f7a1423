import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardLimits } from '../../src/board/boardInput.js';
import { createBoardRepository } from '../../src/board/boardRepository.js';
import { createBoardService } from '../../src/board/boardService.js';
import { createUserDirectory } from '../../src/board/userDirectory.js';
import { createDatabase } from '../../src/db/database.js';
import { freePort as closedPort } from '../support/ports.js';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { authFor, createRecordingBus, silentLogger } from './support/boardTestKit.js';
import { startRouterHarness, type RouterHarness } from './support/routerHarness.js';

// Router unit tests: real service, PostgreSQL and CSRF guard, a stand-in session guard (see routerHarness).
const users = {
  alice: authFor('alice', { name: 'Alice' }),
  bob: authFor('bob', { name: 'Bob' }),
  mona: authFor('mona', { name: 'Mona', roles: ['board-admin'] }),
};

let database: ConnectedDatabase;
let harness: RouterHarness;

beforeAll(async () => {
  database = await connectPostgresDatabase({ poolMax: 4 });
  const { db } = database;
  const log = silentLogger();
  const service = createBoardService({
    repository: createBoardRepository(db),
    users: createUserDirectory({ db, log }),
    events: createRecordingBus(),
    log,
    moderatorRole: 'board-admin',
  });
  harness = await startRouterHarness(service, users);
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

interface Call {
  as?: keyof typeof users;
  body?: unknown;
  raw?: string;
  contentType?: string | null;
  csrf?: boolean;
}

async function call(method: string, path: string, { as = 'alice', body, raw, contentType = 'application/json', csrf = true }: Call = {}) {
  const headers: Record<string, string> = { 'x-test-user': as };
  if (csrf) headers['x-csrf'] = '1';
  if (contentType !== null && (body !== undefined || raw !== undefined)) headers['content-type'] = contentType;
  const response = await fetch(`${harness.url}${path}`, {
    method,
    headers,
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const createPost = async (as: keyof typeof users = 'alice', title = 'A title') =>
  (await call('POST', '/api/posts', { as, body: { title, body: 'A body' } })).json!.post as { id: number };

describe('board routes: sessions and CSRF', () => {
  const routes: Array<[string, string]> = [
    ['GET', '/api/posts'],
    ['GET', '/api/posts/1'],
    ['POST', '/api/posts'],
    ['PATCH', '/api/posts/1'],
    ['DELETE', '/api/posts/1'],
    ['POST', '/api/posts/1/comments'],
    ['PATCH', '/api/comments/1'],
    ['DELETE', '/api/comments/1'],
  ];

  it.each(routes)('when %s %s comes without a live session, then 401', async (method, path) => {
    const response = await fetch(`${harness.url}${path}`, {
      method,
      headers: { 'x-csrf': '1', 'content-type': 'application/json' },
      ...(method === 'POST' || method === 'PATCH' ? { body: JSON.stringify({ title: 't', body: 'b' }) } : {}),
    });

    expect(response.status).toBe(401);
    // Answered by the guard the app passed in, not by the router's own fallback.
    expect(await response.json()).toMatchObject({ error_description: 'stand-in session guard: sign in first' });
  });

  it.each(routes.filter(([method]) => method !== 'GET'))('when %s %s fails the CSRF check, then 403 before anything changes', async (method, path) => {
    const response = await call(method, path, { body: { title: 't', body: 'b' }, csrf: false });

    expect(response.status).toBe(403);
    expect(response.json).toMatchObject({ error: 'csrf_rejected' });
  });
});

describe('board routes: posts', () => {
  it('when a valid post is sent, then 201 with Location, the post with author and canEdit, and no-store', async () => {
    const response = await call('POST', '/api/posts', { body: { title: '  Spaced title  ', body: 'Body' } });

    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/api/posts/${response.json!.post.id}`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json!.post).toMatchObject({ title: 'Spaced title', body: 'Body', author: { name: 'Alice' }, commentCount: 0, canEdit: true });
    expect(response.json!.post.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    [{ body: 'b' }, 'title', 'is required'],
    [{ title: '   ', body: 'b' }, 'title', 'must be 1 to 200 characters after trimming (got 0)'],
    [{ title: 'x'.repeat(boardLimits.titleMax + 1), body: 'b' }, 'title', 'must be 1 to 200 characters after trimming (got 201)'],
    [{ title: 42, body: 'b' }, 'title', 'must be a string'],
    [{ title: 'a\u0000b', body: 'b' }, 'title', 'must not contain NUL characters'],
    [{ title: 't' }, 'body', 'is required'],
    [{ title: 't', body: 'y'.repeat(boardLimits.postBodyMax + 1) }, 'body', 'must be 1 to 20000 characters after trimming (got 20001)'],
    [{ title: 't', body: 'b', author: 'mallory' }, 'author', 'is not a known field (allowed: title, body)'],
  ])('when a post is %j, then 400 naming %s and its limit', async (body, field, problem) => {
    const response = await call('POST', '/api/posts', { body });

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_request', fields: { [field]: problem } });
    expect(response.json!.error_description).toContain(`${field} ${problem}`);
  });

  it('when the body is not JSON, then 415; when it is broken or not an object, then 400; when it is huge, then 413', async () => {
    expect((await call('POST', '/api/posts', { raw: 'title=x', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await call('POST', '/api/posts', { raw: '{"title":"t","body":"b"}', contentType: 'text/plain' })).status).toBe(415);
    expect((await call('POST', '/api/posts', { raw: '{"title":' })).json).toMatchObject({ error: 'invalid_request' });
    expect((await call('POST', '/api/posts', { body: [{ title: 't' }] })).status).toBe(400);
    expect((await call('POST', '/api/posts', { raw: JSON.stringify({ title: 't', body: 'x'.repeat(300_000) }) })).status).toBe(413);
  });

  it('when the list is paged with limit, then nextCursor leads to the older posts and the last page says hasMore false', async () => {
    const ids = [(await createPost()).id, (await createPost()).id, (await createPost()).id];

    const first = await call('GET', '/api/posts?limit=2');
    const second = await call('GET', `/api/posts?limit=1&cursor=${first.json!.nextCursor}`);

    expect(first.json!.posts.map((p: { id: number }) => p.id)).toEqual([ids[2], ids[1]]);
    expect(first.json).toMatchObject({ hasMore: true });
    expect(second.json!.posts.map((p: { id: number }) => p.id)).toEqual([ids[0]]);
    const last = await call('GET', `/api/posts?limit=100&cursor=${second.json!.nextCursor}`);
    expect(last.json).toMatchObject({ nextCursor: null, hasMore: false });
  });

  it.each([
    ['/api/posts?limit=0', 'limit'],
    ['/api/posts?limit=101', 'limit'],
    ['/api/posts?limit=ten', 'limit'],
    ['/api/posts?limit=1&limit=2', 'limit'],
    ['/api/posts?cursor=not-ours', 'cursor'],
    ['/api/posts/abc', 'id'],
    ['/api/posts/0', 'id'],
    ['/api/posts/99999999999999999999', 'id'],
  ])('when GET %s, then 400 naming %s', async (path, field) => {
    const response = await call('GET', path);

    expect(response.status).toBe(400);
    expect(response.json!.fields).toHaveProperty(field);
  });

  it('when a post id is unknown, then 404 for read, edit and delete', async () => {
    expect((await call('GET', '/api/posts/123456789')).json).toMatchObject({ error: 'not_found' });
    expect((await call('PATCH', '/api/posts/123456789', { body: { title: 't' } })).status).toBe(404);
    expect((await call('DELETE', '/api/posts/123456789')).status).toBe(404);
  });

  it('when another user edits or deletes a post, then 403; the moderator may; a deleted post is then 404', async () => {
    const { id } = await createPost('alice');

    expect((await call('PATCH', `/api/posts/${id}`, { as: 'bob', body: { title: 'mine now' } })).json).toMatchObject({ error: 'forbidden' });
    expect((await call('DELETE', `/api/posts/${id}`, { as: 'bob' })).status).toBe(403);
    const moderated = await call('PATCH', `/api/posts/${id}`, { as: 'mona', body: { body: 'moderated' } });
    const deleted = await call('DELETE', `/api/posts/${id}`, { as: 'mona' });

    expect(moderated.json!.post).toMatchObject({ body: 'moderated', canEdit: true });
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/api/posts/${id}`)).status).toBe(404);
  });

  it('when a patch names no field, then 400', async () => {
    const { id } = await createPost();

    const response = await call('PATCH', `/api/posts/${id}`, { body: {} });

    expect(response.status).toBe(400);
    expect(response.json!.error_description).toBe('send at least one of title, body');
  });
});

describe('board routes: comments', () => {
  it('when a comment is added, edited and deleted, then 201, 200 and 204 and the post shows the change', async () => {
    const { id: postId } = await createPost('alice');

    const created = await call('POST', `/api/posts/${postId}/comments`, { as: 'bob', body: { body: 'Hi Alice' } });
    const commentId = created.json!.comment.id as number;
    const edited = await call('PATCH', `/api/comments/${commentId}`, { as: 'bob', body: { body: 'Hello Alice' } });
    const read = await call('GET', `/api/posts/${postId}`, { as: 'alice' });
    const deleted = await call('DELETE', `/api/comments/${commentId}`, { as: 'bob' });

    expect(created.status).toBe(201);
    expect(created.json!.comment).toMatchObject({ postId, body: 'Hi Alice', author: { name: 'Bob' }, canEdit: true });
    expect(edited.json!.comment.body).toBe('Hello Alice');
    expect(read.json!.post.comments).toEqual([expect.objectContaining({ id: commentId, body: 'Hello Alice', canEdit: false })]);
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/api/posts/${postId}`)).json!.post.comments).toEqual([]);
  });

  it('when a comment is too long or someone else edits it, then 400 naming body, or 403', async () => {
    const { id: postId } = await createPost('alice');
    const created = await call('POST', `/api/posts/${postId}/comments`, { as: 'bob', body: { body: 'ok' } });

    const tooLong = await call('POST', `/api/posts/${postId}/comments`, { body: { body: 'z'.repeat(boardLimits.commentBodyMax + 1) } });
    const notYours = await call('PATCH', `/api/comments/${created.json!.comment.id}`, { as: 'alice', body: { body: 'x' } });

    expect(tooLong.json).toMatchObject({ error: 'invalid_request', fields: { body: 'must be 1 to 5000 characters after trimming (got 5001)' } });
    expect(notYours.status).toBe(403);
  });

  it('when a comment targets an unknown post or comment, then 404', async () => {
    expect((await call('POST', '/api/posts/123456789/comments', { body: { body: 'x' } })).status).toBe(404);
    expect((await call('PATCH', '/api/comments/123456789', { body: { body: 'x' } })).status).toBe(404);
    expect((await call('DELETE', '/api/comments/123456789')).status).toBe(404);
  });
});

describe('board routes: database down', () => {
  it('when the database is unreachable, then 503 temporarily_unavailable with Retry-After, never a 500', async () => {
    const dead = await createDatabase(
      databaseSettings({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, poolMax: 1 }),
      silentLogger(),
    );
    const offline = await startRouterHarness(
      createBoardService({
        repository: createBoardRepository(dead),
        users: createUserDirectory({ db: dead, log: silentLogger() }),
        events: createRecordingBus(),
        log: silentLogger(),
        moderatorRole: 'board-admin',
      }),
      users,
    );
    try {
      const read = await fetch(`${offline.url}/api/posts`, { headers: { 'x-test-user': 'alice' } });
      const write = await fetch(`${offline.url}/api/posts`, {
        method: 'POST',
        headers: { 'x-test-user': 'alice', 'x-csrf': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ title: 't', body: 'b' }),
      });

      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).toBe('5');
      expect(await read.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'database is unavailable; try again shortly' });
      expect(write.status).toBe(503);
    } finally {
      await offline.close();
      await dead.close();
    }
  });
});
