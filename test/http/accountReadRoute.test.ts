import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { sign } from 'cookie-signature';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { listenOnLoopback, TEST_SESSION_SECRET, urlOf } from '../support/testApp.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const COMMAND_TIMEOUT_MS = 300;
const IDLE_MS = 1800_000;
const SLACK_MS = 60_000;

interface Answer {
  status: number;
  /** Every header as sent, in order, names as written; `Date` and the request id's value left out. */
  rawHeaders: string[];
  body: string;
  requestId: string;
  /** Whether Express handled the request (it sets `req.originalUrl` on every request it sees). */
  express: boolean;
}

/**
 * `GET /api/user` and `GET /api/session-status` served before Express (src/http/accountReadRoute.ts)
 * against the Express routes they stand in front of, on the same services: the app's own listener on
 * one server, its Express app alone (`createApp(...).express`) on another. Each case sends the same
 * request to both and expects the same status, body and headers — in the same order, as written.
 */
describe('GET /api/user and /api/session-status before Express answer as the Express routes do', () => {
  let world: World;
  let fast: Server;
  let viaExpress: Server;
  let alice: UserAgent;
  const handledByExpress = new Map<string, boolean>();
  let requests = 0;

  const probe = (listener: RequestListener): RequestListener => (req, res) => {
    res.once('finish', () => handledByExpress.set(String(res.getHeader('x-request-id')), (req as IncomingMessage & { originalUrl?: string }).originalUrl !== undefined));
    listener(req, res);
  };

  beforeAll(async () => {
    world = await startWorld({ ownRedis: true, env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
    const app = createApp(world.apps[0]!.services);
    fast = await listenOnLoopback();
    fast.on('request', probe(app));
    viaExpress = await listenOnLoopback();
    viaExpress.on('request', probe(app.express));
    alice = new UserAgent();
    await signIn(alice, world, 'alice');
  });
  afterAll(async () => {
    for (const server of [fast, viaExpress]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    await world?.close();
  });

  /** One request over node:http (which keeps the headers' order and spelling), with a request id of its own. */
  const send = (server: Server, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> => {
    const requestId = `account-read-${++requests}`;
    return new Promise((resolve, reject) => {
      const sent = request(`${urlOf(server)}${path}`, { method: init.method ?? 'GET', headers: { 'x-request-id': requestId, ...init.headers }, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const rawHeaders: string[] = [];
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            const name = response.rawHeaders[i]!;
            if (name.toLowerCase() === 'date') continue;
            rawHeaders.push(`${name}: ${name.toLowerCase() === 'x-request-id' ? '<id>' : response.rawHeaders[i + 1]}`);
          }
          const id = String(response.headers['x-request-id']);
          expect(id).toBe(requestId);
          resolve({ status: response.statusCode!, rawHeaders, body: Buffer.concat(chunks).toString('utf8'), requestId: id, express: handledByExpress.get(id)! });
        });
        response.on('error', reject);
      });
      sent.on('error', reject);
      sent.end();
    });
  };

  /** The same request to both servers; the fast one's answer, after checking the two are the same. */
  const both = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
    const onFast = await send(fast, path, init);
    const onExpress = await send(viaExpress, path, init);
    expect(onExpress.express).toBe(true);
    expect({ ...onFast, requestId: '', express: undefined }).toEqual({ ...onExpress, requestId: '', express: undefined });
    return onFast;
  };

  const cookieOf = (agent: UserAgent) => ({ cookie: agent.cookieHeader(world.baseUrl) });
  const header = (answer: Answer, name: string) => answer.rawHeaders.find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}: `))?.split(': ')[1];

  it.each([
    ['no Origin', {}],
    ['an allowed Origin', { origin: 'ALLOWED' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
  ])('when a live session asks GET /api/user with %s, then both answer 200 with the same bytes, the fast one without Express', async (_case, extra) => {
    const headers: Record<string, string> = { ...cookieOf(alice), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v === 'ALLOWED' ? world.baseUrl : v])) };
    const answer = await both('/api/user', { headers });
    expect(answer).toMatchObject({ status: 200, express: false });
    expect(JSON.parse(answer.body)).toMatchObject({ user: { id: expect.any(String), roles: expect.any(Array) } });
    expect(header(answer, 'cache-control')).toBe('no-store');
    expect(header(answer, 'content-type')).toBe('application/json; charset=utf-8');
    expect(header(answer, 'content-security-policy')).toBeDefined();
    expect(header(answer, 'etag')).toBeUndefined();
    expect(header(answer, 'set-cookie')).toBeUndefined();
    expect(header(answer, 'access-control-allow-origin')).toBe(headers.origin === world.baseUrl ? world.baseUrl : undefined);
    expect(header(answer, 'vary')).toBe(headers.origin === world.baseUrl ? 'Origin' : undefined);
  });

  it('when a live session asks GET /api/session-status, or /api/user with a query string, then both answer the same, the fast one without Express', async () => {
    const status = await both('/api/session-status', { headers: { ...cookieOf(alice), origin: world.baseUrl } });
    expect(status).toMatchObject({ status: 200, express: false });
    expect(JSON.parse(status.body)).toEqual({ authenticated: true, sessionActive: true });
    expect(await both('/api/user?fields=all', { headers: cookieOf(alice) })).toMatchObject({ status: 200, express: false });
  });

  it.each([
    ['no cookie', '/api/user', () => ({}), 401],
    ['no cookie, session status', '/api/session-status', () => ({}), 200],
    ['a cookie with a bad signature', '/api/user', () => ({ cookie: `bff.sid=${encodeURIComponent(`s:${sign(sessionIdOf(alice, world.baseUrl), 'another-secret')}`)}` }), 401],
    ['an unsigned cookie', '/api/user', () => ({ cookie: `bff.sid=${sessionIdOf(alice, world.baseUrl)}` }), 401],
    ['a signed cookie for no session', '/api/user', () => ({ cookie: `bff.sid=${encodeURIComponent(`s:${sign(randomBytes(24).toString('base64url'), TEST_SESSION_SECRET)}`)}` }), 401],
    ['If-None-Match: *', '/api/user', () => ({ ...cookieOf(alice), 'if-none-match': '*' }), 304],
    ['If-Modified-Since', '/api/user', () => ({ ...cookieOf(alice), 'if-modified-since': new Date().toUTCString() }), 200],
    ['a trailing slash', '/api/user/', () => cookieOf(alice), 200],
    ['upper case', '/API/USER', () => cookieOf(alice), 200],
  ])('when the request has %s, then the Express route answers it on both', async (_case, path, headers, status) => {
    const answer = await both(path, { headers: headers() });
    expect(answer).toMatchObject({ status, express: true });
  });

  it.each(['HEAD', 'POST', 'DELETE', 'OPTIONS'])('when the method is %s, then the Express route answers it on both', async (method) => {
    const answer = await both('/api/user', { method, headers: { ...cookieOf(alice), origin: world.baseUrl } });
    expect(answer.express).toBe(true);
  });

  it('when the session was revoked, then both answer 401 session_revoked through Express, and session status says why', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    await world.apps[0]!.services.revoke([sessionIdOf(agent, world.baseUrl)], 'revoked');
    const answer = await both('/api/user', { headers: cookieOf(agent) });
    expect(answer).toMatchObject({ status: 401, express: true });
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'session_revoked' });
    const status = await both('/api/session-status', { headers: cookieOf(agent) });
    expect(status).toMatchObject({ status: 200, express: true });
    expect(JSON.parse(status.body)).toEqual({ authenticated: true, sessionActive: false, reason: 'revoked' });
  });

  it('when Redis stalls, then both answer 503 through Express', async () => {
    world.redis!.pause();
    let answer: Answer;
    try {
      answer = await both('/api/user', { headers: cookieOf(alice) });
    } finally {
      world.redis!.resume();
      await world.redis!.command(['PING']);
    }
    expect(answer).toMatchObject({ status: 503, express: true });
  });

  it('when the refresh the request triggers is refused by the provider, then the Express route answers 401 session_revoked', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const { store } = world.apps[0]!.services;
    const sid = sessionIdOf(agent, world.baseUrl);
    const record = (await store.read(sid))!;
    record.auth!.tokens.expiresAt = Date.now() + 1000;
    await store.write(sid, record);
    await world.op.revokeGrants('carol');
    const answer = await send(fast, '/api/user', { headers: cookieOf(agent) });
    expect(answer).toMatchObject({ status: 401, express: true });
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'session_revoked', error_description: expect.stringContaining('provider_session_ended') });
  });

  it('when a session is used on the fast path near its idle end, then its record is renewed to the idle timeout plus slack, and only then', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const key = `${world.prefix}sess:${sessionIdOf(agent, world.baseUrl)}`;
    const ttl = async () => Number((await world.redis!.command(['PTTL', key])).slice(1));
    // Not due: the TTL only runs down.
    const before = await ttl();
    expect(await send(fast, '/api/user', { headers: cookieOf(agent) })).toMatchObject({ status: 200, express: false });
    expect(await ttl()).toBeLessThanOrEqual(before);
    // Due: 5 s of idle time left; the request renews it before its answer ends.
    await world.redis!.command(['PEXPIRE', key, '5000']);
    const renewing = await send(fast, '/api/session-status', { headers: cookieOf(agent) });
    expect(renewing).toMatchObject({ status: 200, express: false });
    expect(header(renewing, 'set-cookie')).toBeUndefined();
    expect(await ttl()).toBeGreaterThan(IDLE_MS + SLACK_MS - 10_000);
  });

  it('when the fast path answers, then the access log has the same line as for the Express route, and the duration is observed under the route', async () => {
    const logs = world.apps[0]!.logs;
    const lineOf = async (answer: Answer) => {
      await expect.poll(() => logs.filter((line) => line.includes(`"${answer.requestId}"`)).length).toBe(1);
      return JSON.parse(logs.find((line) => line.includes(`"${answer.requestId}"`))!) as Record<string, unknown>;
    };
    const countOf = async () =>
      (await world.apps[0]!.services.metrics.httpDuration.get()).values.find(
        (v) => v.metricName?.endsWith('_count') && v.labels.route === '/api/user' && v.labels.method === 'GET' && v.labels.status === '200',
      )?.value ?? 0;
    const onFast = await send(fast, '/api/user?code=secret', { headers: cookieOf(alice) });
    const onExpress = await send(viaExpress, '/api/user?code=secret', { headers: cookieOf(alice) });
    expect(onFast.express).toBe(false);
    const [fastLine, expressLine] = [await lineOf(onFast), await lineOf(onExpress)];
    expect(fastLine).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/api/user?code=%5BRedacted%5D' }, res: { statusCode: 200 } });
    const shape = (line: Record<string, unknown>) => ({ ...line, reqId: '', time: 0, responseTime: 0 });
    expect(shape(fastLine)).toEqual(shape(expressLine));

    const before = await countOf();
    expect((await send(fast, '/api/user', { headers: cookieOf(alice) })).express).toBe(false);
    await expect.poll(countOf).toBe(before + 1);
  });
});
