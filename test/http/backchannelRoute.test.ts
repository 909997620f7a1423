import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createGracefulShutdown } from '../../src/http/gracefulShutdown.js';
import { createLogger } from '../../src/logger.js';
import { startSlowRequest } from '../support/rawHttp.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { listenOnLoopback, urlOf } from '../support/testApp.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const PATH = '/auth/backchannel-logout';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const COMMAND_TIMEOUT_MS = 300;
const LIMIT = 2;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  requestId: string;
  /** Whether Express handled the request (it sets `req.originalUrl` on every request it sees). */
  express: boolean;
}

/**
 * The back-channel POST served before Express (src/http/backchannelRoute.ts) against the Express
 * route it stands in front of, on the same services: the app's own listener on one server, its
 * Express app alone (`createApp(...).express`, every request through the Express route) on another.
 * Each case sends the same request to both and expects the same answer, header for header.
 */
describe('POST /auth/backchannel-logout before Express answers as the Express route does', () => {
  let world: World;
  let fast: Server;
  let viaExpress: Server;
  const handledByExpress = new Map<string, boolean>();
  let address = 0;

  /** Notes, per request id, whether Express handled the request. */
  const probe = (listener: RequestListener): RequestListener => (req, res) => {
    res.once('finish', () => handledByExpress.set(String(res.getHeader('x-request-id')), (req as IncomingMessage & { originalUrl?: string }).originalUrl !== undefined));
    listener(req, res);
  };

  beforeAll(async () => {
    world = await startWorld({
      ownRedis: true,
      // Client addresses from X-Forwarded-For (each case its own), so the rate limit's count of one
      // case does not reach the next, and the fast path must read the address as Express does.
      env: { TRUST_PROXY: 'loopback', RATE_LIMIT_BACKCHANNEL: String(LIMIT), REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) },
    });
    const app = createApp(world.apps[0]!.services);
    fast = await listenOnLoopback();
    fast.on('request', probe(app));
    viaExpress = await listenOnLoopback();
    viaExpress.on('request', probe(app.express));
  });
  afterAll(async () => {
    for (const server of [fast, viaExpress]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    await world?.close();
  });

  const nextAddress = () => `198.51.100.${++address}`;

  /** One request, from an address of its own unless `init.headers` names one. */
  const send = async (server: Server, init: { method?: string; headers?: Record<string, string>; body?: RequestInit['body']; duplex?: 'half' }): Promise<Answer> => {
    const sent = { 'x-forwarded-for': nextAddress(), ...init.headers };
    const response = await fetch(`${urlOf(server)}${PATH}`, { method: 'POST', ...init, headers: sent } as RequestInit);
    const body = await response.text();
    const requestId = response.headers.get('x-request-id')!;
    const headers = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'x-request-id', 'connection', 'keep-alive'].includes(name)));
    return { status: response.status, headers, body, requestId, express: handledByExpress.get(requestId)! };
  };

  /** The same request to both servers, from one client address of its own; the fast one's answer. */
  const both = async (init: { method?: string; headers?: Record<string, string>; body?: () => RequestInit['body']; duplex?: 'half' }, from = nextAddress()) => {
    const request = () => ({ ...init, headers: { ...init.headers, 'x-forwarded-for': from }, body: init.body?.() });
    const onFast = await send(fast, request());
    const onExpress = await send(viaExpress, request());
    expect(onExpress.express).toBe(true);
    expect({ ...onFast, requestId: '', express: undefined }).toEqual({ ...onExpress, requestId: '', express: undefined });
    return onFast;
  };

  it('when each server gets a valid token of its own, then both answer 200 with no-store and Pragma, the fast one without Express', async () => {
    const tokens = [await world.op.signLogoutToken({ sub: 'nobody' }), await world.op.signLogoutToken({ sub: 'nobody' })];
    const answer = await both({ headers: FORM, body: () => new URLSearchParams({ logout_token: tokens.shift()! }).toString() });
    expect(answer).toMatchObject({ status: 200, body: '', express: false });
    expect(answer.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache', 'content-length': '0' });
  });

  it('when the token names a session, then the fast path revokes it', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const record = await world.apps[0]!.services.store.read(sessionIdOf(agent, world.baseUrl));
    const token = await world.op.signLogoutToken({ sid: record!.auth!.providerSid!, sub: 'alice' });
    const answer = await send(fast, { headers: FORM, body: new URLSearchParams({ logout_token: token }).toString() });
    expect(answer).toMatchObject({ status: 200, express: false });
    const user = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(user.status).toBe(401);
    expect(await user.json()).toMatchObject({ error: 'session_revoked' });
  });

  it.each([
    ['a garbage token', FORM, 'logout_token=abc.def.ghi', 400, /^Invalid logout_token/],
    ['two logout_token values', FORM, 'logout_token=a&logout_token=b', 400, /exactly one/],
    ['no logout_token', FORM, 'something=else', 400, /required/],
    ['JSON instead of a form', { 'content-type': 'application/json' }, '{"logout_token":"x"}', 400, /x-www-form-urlencoded/],
    ['a text/plain body', { 'content-type': 'text/plain' }, 'logout_token=x', 400, /x-www-form-urlencoded/],
    ['a Latin-1 form', { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }, 'logout_token=x', 415, /UTF-8/],
    ['a gzipped form', { ...FORM, 'content-encoding': 'gzip' }, 'logout_token=x', 415, /Compressed/],
    ['a body over 16 KiB', FORM, `logout_token=${'a'.repeat(17 * 1024)}`, 413, /larger than 16384 bytes/],
  ])('when the request carries %s, then both answer the same status, headers and JSON error', async (_case, headers, body, status, description) => {
    const answer = await both({ headers, body: () => body });
    expect(answer).toMatchObject({ status, express: false });
    expect(answer.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(answer.body)).toEqual({ error: expect.any(String), error_description: expect.stringMatching(description) });
  });

  it('when the body streams past 16 KiB without a Content-Length, then both stop reading with 413', async () => {
    const chunk = new TextEncoder().encode(`logout_token=${'a'.repeat(8 * 1024)}`);
    const stream = () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
    };
    const answer = await both({ headers: FORM, body: stream, duplex: 'half' });
    expect(answer).toMatchObject({ status: 413, express: false });
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' });
  });

  it.each(['GET', 'PUT', 'DELETE', 'HEAD'])('when the method is %s, then both answer 405 with Allow: POST through Express', async (method) => {
    const answer = await both({ method });
    expect(answer).toMatchObject({ status: 405, express: true });
    expect(answer.headers).toMatchObject({ allow: 'POST', 'cache-control': 'no-store' });
  });

  it.each([`${PATH}?x=1`, `${PATH}/`, PATH.toUpperCase()])('when the path is spelt %s, then the Express route answers it', async (path) => {
    const response = await fetch(`${urlOf(fast)}${path}`, { method: 'POST', headers: { ...FORM, 'x-forwarded-for': nextAddress() }, body: 'logout_token=abc.def.ghi' });
    expect(response.status).toBe(400);
    expect(handledByExpress.get(response.headers.get('x-request-id')!)).toBe(true);
  });

  it('when an address has sent the limit of refused tokens to the fast path, then both answer it 429 with Retry-After before verifying the token', async () => {
    const from = '203.0.113.77';
    for (let i = 0; i < LIMIT; i++) expect((await send(fast, { headers: { ...FORM, 'x-forwarded-for': from }, body: 'logout_token=abc.def.ghi' })).status).toBe(400);
    // A valid token from that address is refused too: the limit comes before the token is verified.
    const tokens = [await world.op.signLogoutToken({ sub: 'nobody' }), await world.op.signLogoutToken({ sub: 'nobody' })];
    const onFast = await send(fast, { headers: { ...FORM, 'x-forwarded-for': from }, body: new URLSearchParams({ logout_token: tokens[0]! }).toString() });
    const onExpress = await send(viaExpress, { headers: { ...FORM, 'x-forwarded-for': from }, body: new URLSearchParams({ logout_token: tokens[1]! }).toString() });
    for (const answer of [onFast, onExpress]) {
      expect(answer.status).toBe(429);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // The same answer but for the seconds left in the window, which may tick between the two.
    const withoutSeconds = (answer: Answer) => ({ ...answer, requestId: '', express: undefined, headers: { ...answer.headers, 'retry-after': 'n' }, body: answer.body.replace(/\d+ s/, 'n s') });
    expect(withoutSeconds(onFast)).toEqual(withoutSeconds(onExpress));
    expect(onFast.express).toBe(false);
    expect(JSON.parse(onFast.body)).toMatchObject({ error: 'rate_limited' });
    // Another address behind the same proxy is not limited: the fast path counts the forwarded address, not the socket's.
    expect((await send(fast, { headers: { ...FORM, 'x-forwarded-for': '203.0.113.78' }, body: 'logout_token=abc.def.ghi' })).status).toBe(400);
  });

  it('when Redis stalls, then both answer 503 temporarily_unavailable with Retry-After', async () => {
    const tokens = [await world.op.signLogoutToken({ sub: 'nobody' }), await world.op.signLogoutToken({ sub: 'nobody' })];
    world.redis!.pause();
    let answer: Answer;
    try {
      answer = await both({ headers: FORM, body: () => new URLSearchParams({ logout_token: tokens.shift()! }).toString() });
    } finally {
      world.redis!.resume();
      await world.redis!.command(['PING']);
    }
    expect(answer).toMatchObject({ status: 503, express: false });
    expect(answer.headers).toMatchObject({ 'retry-after': '5', 'cache-control': 'no-store' });
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('when the fast path answers, then the access log has the same line as for the Express route, with the request id and never the token', async () => {
    const logs = world.apps[0]!.logs;
    const tokens = [await world.op.signLogoutToken({ sub: 'nobody' }), await world.op.signLogoutToken({ sub: 'nobody' })];
    const lines = async (server: Server, token: string, requestId: string) => {
      const answer = await send(server, { headers: { ...FORM, 'x-request-id': requestId }, body: new URLSearchParams({ logout_token: token }).toString() });
      expect(answer.requestId).toBe(requestId);
      // The line is written when the response finishes, which may follow the client's read.
      await expect.poll(() => logs.filter((line) => line.includes(requestId)).length).toBeGreaterThan(0);
      return logs.filter((line) => line.includes(requestId)).map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const onFast = await lines(fast, tokens[0]!, 'fast-path-request-1');
    const onExpress = await lines(viaExpress, tokens[1]!, 'express-route-request-1');
    expect(onFast).toEqual([expect.objectContaining({ reqId: 'fast-path-request-1', msg: 'request completed', req: { method: 'POST', url: PATH }, res: { statusCode: 200 } })]);
    const shape = (line: Record<string, unknown>) => ({ ...line, reqId: '', time: 0, responseTime: 0 });
    expect(shape(onFast[0]!)).toEqual(shape(onExpress[0]!));

    // A refused token is logged by the error handler too, with the request id; no line holds any token.
    const refused = await send(fast, { headers: { ...FORM, 'x-request-id': 'fast-path-refused-1' }, body: 'logout_token=abc.def.ghi' });
    expect(refused.status).toBe(400);
    await expect.poll(() => logs.filter((line) => line.includes('fast-path-refused-1')).length).toBe(2);
    for (const token of [...tokens, 'abc.def.ghi']) expect(logs.filter((line) => line.includes(token))).toEqual([]);
  });

  it('when the fast path answers, then its duration is observed under the route\'s path', async () => {
    const countOf = async () =>
      (await world.apps[0]!.services.metrics.httpDuration.get()).values.find(
        (v) => v.metricName?.endsWith('_count') && v.labels.route === PATH && v.labels.method === 'POST' && v.labels.status === '200',
      )?.value ?? 0;
    const before = await countOf();
    const token = await world.op.signLogoutToken({ sub: 'nobody' });
    expect((await send(fast, { headers: FORM, body: new URLSearchParams({ logout_token: token }).toString() })).express).toBe(false);
    await expect.poll(countOf).toBe(before + 1);
  });

  it('when the server shuts down with a fast-path POST in flight, then the shutdown waits for it and it is answered 200 with Connection: close', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const server = await listenOnLoopback();
    const stop = createGracefulShutdown({ server, beginDrain: () => undefined, streamCount: () => 0, endStreams: () => undefined, closeServices: async () => undefined, delayMs: 0, graceMs: 10_000, log });
    server.on('request', probe(createApp(world.apps[0]!.services)));
    const arrived = new Promise((resolve) => server.once('request', resolve));
    const token = await world.op.signLogoutToken({ sub: 'nobody' });
    // Half the body now, the rest once the shutdown has begun.
    const post = startSlowRequest(`${urlOf(server)}${PATH}`, { method: 'POST', headers: { ...FORM, 'x-forwarded-for': nextAddress() }, body: new URLSearchParams({ logout_token: token }).toString() });
    await arrived;
    const stopped = stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    post.send();
    const answer = await post.response;
    expect(await stopped).toBe(0);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(handledByExpress.get(String(answer.headers['x-request-id']))).toBe(false);
    expect(JSON.parse(lines.find((line) => line.includes('shutting down'))!)).toMatchObject({ inFlight: 1 });
  });
});
