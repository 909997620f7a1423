import { describe, expect, it } from 'vitest';
import { BoardApiError } from '../src/boardApiError.js';
import { createBoardClient } from '../src/boardClient.js';
import { ScriptedEventSource } from './fakes.js';

function recordingFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer(url, init);
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('createBoardClient', () => {
  it('sends cookies on every call and X-CSRF on state-changing ones', async () => {
    const { fetch, calls } = recordingFetch((url) => (url.endsWith('/api/posts') ? json(201, { post: { id: 1 } }) : json(200, { posts: [], nextCursor: null, hasMore: false })));
    const client = createBoardClient({ baseUrl: 'https://bff.test/', fetch });
    await client.posts({ cursor: 'abc', limit: 5 });
    await client.createPost({ title: 't', body: 'b' });
    expect(calls[0]!.url).toBe('https://bff.test/api/posts?cursor=abc&limit=5');
    expect(calls[0]!.init.credentials).toBe('include');
    expect((calls[0]!.init.headers as Record<string, string>)['X-CSRF']).toBeUndefined();
    expect(calls[1]!.init).toMatchObject({ method: 'POST', credentials: 'include', body: '{"title":"t","body":"b"}' });
    expect(calls[1]!.init.headers).toMatchObject({ 'X-CSRF': '1', 'Content-Type': 'application/json' });
  });

  it('rejects with BoardApiError carrying the API code, description and fields', async () => {
    const { fetch } = recordingFetch(() => json(400, { error: 'invalid_request', error_description: 'title must not be empty', fields: { title: 'must not be empty' } }));
    const error = await createBoardClient({ baseUrl: 'https://bff.test', fetch }).createPost({ title: '', body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BoardApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', description: 'title must not be empty', fields: { title: 'must not be empty' } });
  });

  it('names a non-JSON failure by its status and a failed connection network_error', async () => {
    const html = recordingFetch(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(createBoardClient({ baseUrl: 'https://bff.test', fetch: html.fetch }).user()).rejects.toMatchObject({ status: 502, code: 'http_502' });
    const down = recordingFetch(() => Promise.reject(new TypeError('fetch failed')));
    await expect(createBoardClient({ baseUrl: 'https://bff.test', fetch: down.fetch }).user()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('tells onSessionRevoked listeners when a call answers 401 session_revoked', async () => {
    const { fetch } = recordingFetch(() => json(401, { error: 'session_revoked', error_description: 'ended' }));
    const client = createBoardClient({ baseUrl: 'https://bff.test', fetch });
    const seen: string[] = [];
    client.onSessionRevoked((e) => seen.push(e.code));
    const error = await client.sessions().catch((e: BoardApiError) => e);
    expect(seen).toEqual(['session_revoked']);
    expect((error as BoardApiError).needsSignIn).toBe(true);
  });

  it('logout POSTs with X-CSRF and follows the JSON logoutUrl', async () => {
    const { fetch, calls } = recordingFetch(() => json(200, { logoutUrl: 'https://op.test/end?id_token_hint=x' }));
    const went: string[] = [];
    await createBoardClient({ baseUrl: 'https://bff.test', fetch, navigate: (u) => went.push(u) }).logout();
    expect(calls[0]!.init).toMatchObject({ method: 'POST', headers: { 'X-CSRF': '1', Accept: 'application/json' } });
    expect(went).toEqual(['https://op.test/end?id_token_hint=x']);
  });

  it('builds the sign-in URL with an encoded returnTo', () => {
    const client = createBoardClient({ baseUrl: 'https://bff.test', fetch: recordingFetch(() => json(200, {})).fetch });
    expect(client.loginUrl('/posts/3?x=1')).toBe('https://bff.test/auth/login?returnTo=%2Fposts%2F3%3Fx%3D1');
  });

  it('events(): one stream per page, never reopened once it ended (a render asking again opens nothing)', async () => {
    ScriptedEventSource.all.length = 0;
    const { fetch } = recordingFetch(() => json(200, { authenticated: true, sessionActive: false, reason: 'logout' }));
    const client = createBoardClient({ baseUrl: 'https://bff.test', fetch, locks: null, createEventSource: (url, init) => new ScriptedEventSource(url, init) });
    const events = client.events();
    expect(ScriptedEventSource.all.map((s) => s.url)).toEqual(['https://bff.test/api/events']);
    ScriptedEventSource.all[0]!.emit('session_invalidated', { type: 'session_invalidated', reason: 'logout' }, 'e1');
    expect(events.state).toEqual({ status: 'ended', cause: 'invalidated', reason: 'logout' });
    expect(client.events()).toBe(events);
    expect(ScriptedEventSource.all).toHaveLength(1);
  });
});
