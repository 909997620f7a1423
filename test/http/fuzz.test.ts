import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Express } from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

interface Route {
  path: string;
  methods: string[];
}

/** Every route the app declares, read from its router (mounted routers included). */
function routesOf(app: Express): Route[] {
  const routes: Route[] = [];
  const walk = (stack: Array<{ route?: { path: string | RegExp; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }>) => {
    for (const layer of stack) {
      if (layer.route) {
        const { path } = layer.route;
        // The web app's page fallback is a RegExp route: fuzz it at a client-side route it answers.
        const concrete = typeof path === 'string' ? path : ['/posts/7', '/sessions', '/'].find((page) => path.test(page));
        if (concrete === undefined) throw new Error(`no sample path for the route ${String(path)}`);
        routes.push({ path: concrete, methods: Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => m.toUpperCase()) });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack as typeof stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Parameters<typeof walk>[0] } }).router.stack);
  return routes;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One raw request, no client-side cleaning: the path goes out byte for byte (latin1, so `\u00ff`
 * is an invalid UTF-8 byte on the wire), as do header values. Event streams are cut once their
 * headers arrive.
 */
function send(baseUrl: string, method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes straight onto a socket, for what no HTTP client will send (absolute-form targets, no Host, raw bytes). */
function sendRaw(baseUrl: string, head: string, body = ''): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // The socket stays open for writing until the answer ends it: a half-closed request may go unanswered.
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(Buffer.from(head + body, 'latin1')));
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${head.split('\r\n')[0]}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      let content = rest.join('\r\n\r\n');
      if (headers['transfer-encoding'] === 'chunked') content = content.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '').replace(/\r\n$/, '');
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: content });
    });
  });
}

const hostileIds = ['0', '-1', '1.5', '1e3', '0x10', '99999999999999999999', 'abc', '%00', '%FF', '%C3%28', '%E2%80%AE', '%', '%zz', '..%2F..%2Fetc', '%2e%2e', '\u00ff\u00fe', '1;x=y', 'x'.repeat(3000), '%EF%BC%91'];
const hostileQueries = [
  '', '?limit=%FF', '?limit=1&limit=2', '?limit=-5', '?limit=1e2', '?cursor=%00', '?cursor[]=x', '?cursor[a]=b', '?all=true&all=false',
  '?returnTo=%FF%FE', '?returnTo=/a&returnTo=/b', '?returnTo=%', '?returnTo=//evil.example', '?__proto__[x]=1', '?constructor=1', '?%=%',
  '?code=x&state=y&state=z', '?code=%FF&state=%00', '?error=x&error=y', '?error=%C3%28&error_description=%FF', '?state=' + 'x'.repeat(4000) + '&code=c',
  '?a=\u00ff', '?' + 'a=1&'.repeat(2000),
];
const contentTypes = [
  undefined, 'application/json', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=\u00ff',
  'text/plain', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'multipart/form-data',
  'x/y;;;=', 'application/merge-patch+json', '*/*', 'application/json, text/plain',
];
const bodies: Array<Buffer | undefined> = [
  undefined, Buffer.from(''), Buffer.from('{'), Buffer.from('{"title":'), Buffer.from('[]'), Buffer.from('null'), Buffer.from('"s"'),
  Buffer.from('1e999'), Buffer.from('{"title":"a\\u0000b","body":"x"}'), Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"title":"\udc00"}'),
  Buffer.from('{"__proto__":{"admin":true},"title":"t","body":"b"}'), Buffer.from('{"title":{"$gt":""},"body":[1]}'),
  Buffer.from('['.repeat(5000)), Buffer.from(`{"body":"${'x'.repeat(300_000)}"}`), Buffer.from('logout_token=a&logout_token=b'),
  Buffer.from('logout_token=%FF%FE'), Buffer.from('logout_token=%zz'), Buffer.from('logout_token=a.b.c'), Buffer.from('\u0000'.repeat(100)),
  Buffer.from('{"title":"t","body":"b"}'), Buffer.from('{"body":"a comment"}'), gzipSync(Buffer.from('{"title":"t","body":"b"}')),
];
const extraHeaders: Array<Record<string, string | string[]>> = [
  {}, { accept: 'text/html' }, { accept: 'application/json, text/plain, */*' }, { accept: '\u00ff/\u00fe' }, { 'content-encoding': 'gzip' },
  { 'content-encoding': 'deflate' }, { 'content-encoding': 'br' }, { 'content-encoding': 'identity, gzip' }, { 'content-encoding': 'x-unknown' },
  { origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'x-csrf': '' }, { 'x-request-id': '\u00ff'.repeat(100) },
  { 'last-event-id': '\u00ff' }, { cookie: 'bff.sid=s%3Agarbage.sig' }, { cookie: 'bff.sid=%FF; bff.sid=x' }, { cookie: `bff.auth.x=${'y'.repeat(4000)}` },
  { cookie: 'bff.sid' }, { cookie: '=; ;; =x' }, { range: 'bytes=0-1' }, { 'if-none-match': '*' }, { expect: '100-continue' },
  { 'transfer-encoding': 'chunked' }, { 'accept-encoding': 'gzip;q=\u00ff' }, { authorization: 'Bearer \u00ff' },
];
// Besides each route's own: methods it does not declare, including ones Express knows but nothing here uses.
const otherMethods = ['HEAD', 'OPTIONS', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'PURGE', 'M-SEARCH'];

describe('HTTP fuzzing over every route: never a 500, never a stack trace, every error JSON', () => {
  let world: World;
  let routes: Route[];
  let signedIn: UserAgent;
  let postId: string;

  beforeAll(async () => {
    world = await startWorld();
    routes = routesOf(createApp(world.apps[0]!.services));
    signedIn = new UserAgent();
    await signIn(signedIn, world, 'carol');
    const created = await signedIn.fetch(`${world.baseUrl}/api/posts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: world.baseUrl },
      body: JSON.stringify({ title: 'fuzz target', body: 'a post to aim at' }),
    });
    postId = String(((await created.json()) as { post: { id: number } }).post.id);
  });
  afterAll(() => world?.close());

  /** A fresh signed-in cookie whenever a fuzzed logout has ended the last one. */
  async function sessionCookie(): Promise<string> {
    if ((await signedIn.fetch(`${world.baseUrl}/api/user`)).status !== 200) await signIn(signedIn, world, 'carol');
    return signedIn.cookieHeader(world.baseUrl);
  }

  function check(answer: Answer, what: string): void {
    // A request Node's own parser refused never reached the app (no request id): a bare 4xx is right there.
    if (answer.headers['x-request-id'] === undefined) {
      expect(answer.status, what).toBeGreaterThanOrEqual(400);
      expect(answer.status, what).toBeLessThan(500);
      return;
    }
    expect(answer.status, `${what} answered ${answer.status}: ${answer.body.slice(0, 200)}`).toBeLessThan(500);
    expect(answer.body, what).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|Error: /);
    if (answer.status < 400 || answer.body === '') return; // HEAD and 3xx carry no body
    if (String(answer.headers['content-type']).startsWith('text/html')) {
      expect(what, 'only sign-in pages may answer HTML').toMatch(/ \/auth\//);
      return;
    }
    expect(answer.headers['content-type'], what).toMatch(/^application\/json/);
    const error = JSON.parse(answer.body) as Record<string, unknown>;
    expect(typeof error.error, what).toBe('string');
    expect(typeof error.error_description, what).toBe('string');
  }

  it('enumerates the routes the contract names', () => {
    const paths = routes.map((r) => r.path);
    for (const path of ['/auth/login', '/auth/callback', '/auth/logout', '/auth/backchannel-logout', '/api/user', '/api/session-status', '/api/sessions',
      '/api/sessions/:sessionId', '/api/events', '/api/posts', '/api/posts/:id', '/api/posts/:id/comments', '/api/comments/:id', '/healthz', '/readyz', '/metrics']) {
      expect(paths).toContain(path);
    }
    console.log(`fuzzing ${routes.length} routes: ${routes.map((r) => `${r.methods.join('|')} ${r.path}`).join(', ')}`);
  });

  it('every route, hostile methods, ids and queries, anonymous and signed in: no 500', async () => {
    let count = 0;
    for (const route of routes) {
      for (const method of new Set([...route.methods, ...otherMethods])) {
        for (const asUser of [false, true]) {
          const cookie = asUser ? await sessionCookie() : undefined;
          // Every hostile id for the route's own methods; a few for the rest.
          const ids = route.methods.includes(method) ? [...hostileIds, postId] : [postId, 'abc', '%FF'];
          const paths = route.path.includes(':') ? ids.map((id) => route.path.replace(/:\w+/g, id)) : [route.path];
          for (const path of paths) {
            const headers = { ...(cookie ? { cookie, 'x-csrf': '1', origin: world.baseUrl } : {}), accept: 'application/json' };
            check(await send(world.baseUrl, method, path, headers), `${method} ${path} ${asUser ? '(signed in)' : ''}`);
            count++;
          }
        }
      }
      const cookie = await sessionCookie();
      for (const query of hostileQueries) {
        const path = route.path.replace(/:\w+/g, postId) + query;
        check(await send(world.baseUrl, 'GET', path, { cookie, accept: 'application/json' }), `GET ${path.slice(0, 120)}`);
        count++;
      }
    }
    console.log(`fuzz: ${count} method/path/query requests, no 500`);
  }, 300_000);

  it('request lines and headers no client library would send: no 500', async () => {
    const cookie = await sessionCookie();
    const host = new URL(world.baseUrl).host;
    const cases = [
      `GET http://evil.example/api/user HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n`,
      `GET //evil.example/auth/login?returnTo=/x HTTP/1.1\r\nHost: ${host}\r\n`,
      `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\n`,
      `GET /auth/callback?code=a&state=b HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: javascript\r\n`,
      `GET /auth/login?returnTo=/x HTTP/1.0\r\n`,
      `GET /auth/login HTTP/1.1\r\nHost:\r\n`,
      `GET /api/posts/\u00ff\u00fe HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n`,
      `GET /api/../auth/login HTTP/1.1\r\nHost: ${host}\r\n`,
      `GET /%2e%2e/api/user HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n`,
      `GET /auth/login?returnTo=${'/a'.repeat(7000)} HTTP/1.1\r\nHost: ${host}\r\n`,
      `POST /api/posts HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nX-CSRF: 1\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}`,
      `POST /api/posts HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nX-CSRF: 1\r\nOrigin: ${world.baseUrl}\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      `POST /api/posts HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nX-CSRF: 1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /auth/backchannel-logout HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nlogou\r\nZZ\r\n`,
      `GET /api/user HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nX-Bad: a\u0000b\r\n`,
      `GET /api/user HTTP/1.1\r\nHost: ${host}\r\nCookie: ${'bff.auth.' + 'x'.repeat(20)}=${'y'.repeat(17_000)}\r\n`,
    ];
    for (const head of cases) {
      const [line] = head.split('\r\n');
      const request = (head.includes('\r\n\r\n') ? head : `${head}\r\n`).replace('\r\n', '\r\nConnection: close\r\n');
      check(await sendRaw(world.baseUrl, request), `raw ${line!.slice(0, 100)}`);
    }
    console.log(`fuzz: ${cases.length} raw requests, no 500`);
  });

  it('callbacks that carry a real sign-in attempt and a hostile query: no 500', async () => {
    const extras = ['&iss=https://evil.example', '&iss=', '&iss=%FF', '&code=second', '&error=access_denied', '&error=%00&error_description=%FF',
      '&response=x', '&state=dup', '&session_state=x', '&code=%FF', '&id_token=a.b.c', '&__proto__=x'];
    for (const extra of extras) {
      const agent = new UserAgent();
      const start = await agent.fetch(`${world.baseUrl}/auth/login`);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const path = `/auth/callback?code=not-a-code&state=${state}${extra}`;
      check(await send(world.baseUrl, 'GET', path, { cookie: agent.cookieHeader(world.baseUrl), accept: 'application/json' }), `GET ${path}`);
    }
  });

  it('generated combinations of hostile headers, content types, encodings and bodies on every route: no 500', async () => {
    const bodyMethods = ['POST', 'PATCH', 'PUT', 'DELETE', 'GET'];
    const cases = fc.sample(
      fc.record({
        route: fc.constantFrom(...routes),
        method: fc.constantFrom(...bodyMethods),
        contentType: fc.constantFrom(...contentTypes),
        body: fc.constantFrom(...bodies),
        extra: fc.array(fc.constantFrom(...extraHeaders), { maxLength: 3 }),
        signedIn: fc.boolean(),
      }),
      { numRuns: 1000, seed: 20261130 },
    );
    let count = 0;
    const statuses = new Map<number, number>();
    for (const c of cases) {
      const headers: Record<string, string | string[]> = { accept: 'application/json' };
      if (c.signedIn) Object.assign(headers, { cookie: await sessionCookie(), 'x-csrf': '1', origin: world.baseUrl });
      if (c.contentType) headers['content-type'] = c.contentType;
      for (const extra of c.extra) Object.assign(headers, extra);
      const method = c.route.methods.includes(c.method) || c.body === undefined ? c.method : c.route.methods[0]!;
      const path = c.route.path.replace(/:\w+/g, postId);
      if (headers['transfer-encoding']) delete headers['content-length'];
      const what = `${method} ${path} ${JSON.stringify({ ...headers, cookie: undefined })} body ${c.body?.subarray(0, 40).toString('latin1')}`;
      const answer = await send(world.baseUrl, method, path, headers, c.body).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
      check(answer, what);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      count++;
    }
    console.log(`fuzz: ${count} header/body combinations, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 300_000);

  it('after all of it, the app logged no error (no unexpected failure hid behind a 4xx)', () => {
    expect(world.apps[0]!.logs.filter((line) => /"level":"(error|fatal)"/.test(line))).toEqual([]);
  });
});
