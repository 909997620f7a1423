import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { e2eEnv, onKeycloak, USERS } from './support/env.js';
import { typeCredentials } from './support/flows.js';
import { REPLICA_SETTINGS, signInOverHttp, startProxyTopology, type ProxyTopology } from './support/proxyTopology.js';
import { ReconnectingStream } from './support/reconnectingStream.js';

/**
 * docker-compose.yml's system, run as processes (no Docker engine here): Debian's nginx with the very
 * config compose mounts, two replicas, real Keycloak, Redis and PostgreSQL. A person signs in through
 * nginx and Keycloak's login page and lands on the React app a replica serves through nginx; Keycloak's
 * logout token reaches a replica through nginx; the page's stream hears it through nginx. Then a rolling restart under load: replica A gets SIGTERM and starts
 * again, then B, while authenticated requests and 200 event streams go through nginx.
 */
const env = e2eEnv();
let topology: ProxyTopology;
let browser: TestBrowser;

const appLog = () => topology.nginx.accessLog().filter((line) => line.startsWith(`${new URL(topology.nginx.appUrl).port} `));
const keycloakLog = () => topology.nginx.accessLog().filter((line) => line.startsWith(`${new URL(topology.nginx.keycloakUrl).port} `));
/** The React app's header names the user and its connection indicator says the stream is live. */
async function expectSignedIn(page: Page, name: string): Promise<void> {
  await expect.poll(() => page.locator('[data-testid=user-name]').textContent(), { timeout: 15_000 }).toContain(name);
  await expect.poll(() => page.locator('[data-testid=connection]').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
}

beforeAll(async () => {
  browser = await launchBrowser();
  topology = await startProxyTopology(env);
  console.log(`[topology] nginx ${topology.nginx.appUrl} (app), ${topology.nginx.keycloakUrl} (Keycloak); issuer ${topology.issuer}; discovery ${topology.discoveryUrl}`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

describe(onKeycloak('the compose topology as processes: nginx in front of two replicas and Keycloak'), () => {
  it('when the replicas start, then they fetch the metadata from Keycloak directly while the issuer they expect is the public one', async () => {
    // Both replicas are ready (discovery done), yet nginx never carried a discovery request.
    expect(keycloakLog().filter((line) => line.includes('/.well-known/openid-configuration'))).toEqual([]);
    const direct = (await (await fetch(`${topology.discoveryUrl}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const viaProxy = (await (await fetch(`${topology.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(direct.issuer).toBe(topology.issuer);
    expect(viaProxy.issuer).toBe(topology.issuer);
    expect(direct.authorization_endpoint!.startsWith(topology.nginx.keycloakUrl)).toBe(true);
    console.log(`[topology] metadata fetched at ${topology.discoveryUrl}: issuer ${direct.issuer}, token_endpoint ${direct.token_endpoint}`);
  });

  it('when the replicas sign people in, then their back-end calls (token, keys) go to Keycloak directly, as KC_HOSTNAME_BACKCHANNEL_DYNAMIC makes them in compose', async () => {
    const direct = (await (await fetch(`${topology.discoveryUrl}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    if (new URL(direct.token_endpoint!).origin !== new URL(topology.discoveryUrl).origin) {
      // Only a Keycloak this suite did not start (KEYCLOAK_TEST_URL, a container) can land here.
      throw new Error(
        `Keycloak at ${env.keycloak.url} advertises its public token endpoint to back-end callers (${direct.token_endpoint}): ` +
          'start it with KC_HOSTNAME=<its URL> and KC_HOSTNAME_BACKCHANNEL_DYNAMIC=true, as docker-compose.yml does',
      );
    }
    expect(direct.jwks_uri!.startsWith(new URL(topology.discoveryUrl).origin)).toBe(true);
    await signInOverHttp(topology.nginx.appUrl, USERS.alice.username, USERS.alice.password);
    const viaProxy = keycloakLog().map((line) => /"(?:GET|POST) ([^ ?]+)/.exec(line)?.[1] ?? '');
    expect(viaProxy).toContain('/realms/board-proxy/login-actions/authenticate');
    expect(viaProxy.filter((path) => /\/protocol\/openid-connect\/(token|certs|userinfo)$/.test(path))).toEqual([]);
  });

  it('when a person signs in through nginx and Keycloak\'s login page, then the app\'s page, served by a replica through nginx, shows them signed in with its stream live', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${topology.nginx.appUrl}/auth/login?returnTo=/`);
    expect(new URL(page.url()).origin).toBe(topology.nginx.keycloakUrl);
    await typeCredentials(page, USERS.alice.username, USERS.alice.password);
    await page.waitForURL((url) => url.origin === topology.nginx.appUrl && url.pathname === '/', { timeout: 30_000 });
    await expectSignedIn(page, USERS.alice.name);
    const paths = keycloakLog().map((line) => /"(?:GET|POST) ([^ ?]+)/.exec(line)?.[1]);
    expect(paths).toContain(`/realms/board-proxy/protocol/openid-connect/auth`);
    expect(paths).toContain(`/realms/board-proxy/login-actions/authenticate`);
    // The page, its script and its stream all came from a replica through nginx, none from nginx itself.
    const servedBy = (request: string) => appLog().find((line) => line.includes(request)) ?? `no "${request}" in nginx's access log`;
    for (const request of ['"GET / HTTP/1.1" 200', '"GET /assets/app.js HTTP/1.1" 200']) expect(servedBy(request)).toMatch(/upstream=127\.0\.0\.1:\d+/);
    await context.close();
    // nginx logs a request when it ends: the stream's line appears once the browser has gone.
    await expect.poll(() => servedBy('"GET /api/events HTTP/1.1"'), { timeout: 10_000 }).toMatch(/upstream=127\.0\.0\.1:\d+/);
  });

  it('when an admin signs the session out in Keycloak, then its logout token goes through nginx to a replica and the page hears it through nginx', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const user = await topology.admin.findUser(USERS.carol.username);
    await page.goto(`${topology.nginx.appUrl}/auth/login?returnTo=/`);
    await typeCredentials(page, USERS.carol.username, USERS.carol.password);
    await page.waitForURL((url) => url.origin === topology.nginx.appUrl, { timeout: 30_000 });
    await expectSignedIn(page, USERS.carol.name);
    const [session] = await topology.admin.waitForSessions(user.id, (sessions) => sessions.length === 1);

    const started = Date.now();
    await topology.admin.deleteSession(session!.id);
    const notice = page.locator('[data-testid=signed-out]');
    await notice.waitFor({ timeout: 10_000 });
    console.log(`[topology] admin sign-out → the app's notice through nginx: ${Date.now() - started} ms`);
    expect(await notice.getAttribute('data-reason')).toBe('backchannel_logout');
    const posts = appLog().filter((line) => line.includes('"POST /auth/backchannel-logout HTTP/1.1" 200'));
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(/upstream=127\.0\.0\.1:\d+ upstream_status=200/);
    const cookie = (await context.cookies(topology.nginx.appUrl)).find((c) => c.name === 'bff.sid');
    const answer = await fetch(`${topology.nginx.appUrl}/api/user`, { headers: { cookie: `bff.sid=${cookie!.value}`, accept: 'application/json' } });
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: string }).error).toBe('session_revoked');
    await context.close();
  });

  it('when replica A and then B get SIGTERM and start again under load, then no request fails, every stream reconnects and no session is lost', async () => {
    const publicUrl = topology.nginx.appUrl;
    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push(await signInOverHttp(publicUrl, USERS.bob.username, USERS.bob.password));
    const streams = sessions.flatMap((cookie) => Array.from({ length: STREAMS / SESSIONS }, () => new ReconnectingStream(`${publicUrl}/api/events`, cookie)));
    await Promise.all(streams.map((stream) => stream.start()));
    const load = startLoad(publicUrl, sessions);

    const stopped: Record<string, { ms: number; code: number | null }> = {};
    try {
      await sleep(2000);
      for (const name of ['A', 'B'] as const) {
        const replica = topology.replicas[name];
        const exited = new Promise<number | null>((resolve) => replica.child.once('exit', (code) => resolve(code)));
        const signalled = performance.now();
        replica.child.kill('SIGTERM');
        const code = await exited;
        stopped[name] = { ms: Math.round(performance.now() - signalled), code };
        await topology.restart(name);
        // Until every stream is open again, and past nginx's fail_timeout (2 s), so the restarted
        // replica takes traffic again before the other one stops.
        await waitFor(() => streams.every((stream) => stream.connected || stream.fatal), 30_000, 'every stream open again');
        await sleep(3000);
      }
    } finally {
      load.stop();
    }
    const loadResult = await load.done;
    const lost: string[] = [];
    for (const cookie of sessions) {
      const answer = await fetch(`${publicUrl}/api/user`, { headers: { cookie, accept: 'application/json' } });
      if (answer.status !== 200) lost.push(`${answer.status} ${(await answer.text()).slice(0, 120)}`);
    }
    const openAtEnd = streams.filter((s) => s.connected);
    for (const stream of streams) stream.close();
    // nginx re-sends a POST whose connection a stopping replica reset: each post must exist exactly once.
    const stored = await postTitles(loadResult.run);

    const ended = streams.filter((s) => s.serverEnds > 0);
    const figures = {
      requests: loadResult.total,
      failedRequests: loadResult.failures.length,
      streams: streams.length,
      streamsEndedByShutdown: ended.length,
      streamsReconnected: ended.filter((s) => s.opens > s.serverEnds && openAtEnd.includes(s)).length,
      streamsOpenAtEnd: openAtEnd.length,
      streamsStoppedForGood: streams.filter((s) => s.fatal).length,
      reconnectNetworkErrors: streams.reduce((sum, s) => sum + s.networkErrors, 0),
      postsAnswered201: loadResult.created.length,
      postsStored: stored.length,
      sessions: sessions.length,
      sessionsLost: lost.length,
      sigtermToExitMs: { A: stopped.A?.ms, B: stopped.B?.ms },
      exitCodes: { A: stopped.A?.code, B: stopped.B?.code },
      // Lines whose upstream list has two entries: nginx moved the request to the other replica.
      movedByNginx: appLog().filter((line) => /upstream=\S+, /.test(line)).length,
      servedBy: countBy(appLog().map((line) => /upstream=(\S+?),? /.exec(line)?.[1]!).map((to) => (to === '-' ? 'nginx itself' : to))),
    };
    console.log(`[topology] rolling restart figures ${JSON.stringify(figures, null, 1)}`);
    if (loadResult.failures.length > 0) {
      console.log(`[topology] failed requests:\n${loadResult.failures.slice(0, 20).join('\n')}`);
      console.log(`[topology] nginx answers 5xx:\n${appLog().filter((line) => /" 5\d\d /.test(line)).join('\n')}`);
      console.log(`[topology] nginx error log (tail):\n${topology.nginx.errorLog().split('\n').slice(-30).join('\n')}`);
    }

    expect(loadResult.failures).toEqual([]);
    expect(loadResult.total).toBeGreaterThan(100);
    expect(streams.filter((s) => s.fatal).map((s) => s.fatal)).toEqual([]);
    // Each replica held some streams when it stopped; all of them came back, and every stream is open.
    expect(ended.length).toBeGreaterThan(0);
    expect(figures.streamsReconnected).toBe(ended.length);
    expect(figures.streamsOpenAtEnd).toBe(STREAMS);
    expect(lost).toEqual([]);
    expect(loadResult.created.length).toBeGreaterThan(10);
    expect(stored.sort()).toEqual([...loadResult.created].sort());
    expect(stopped.A?.code).toBe(0);
    expect(stopped.B?.code).toBe(0);
    const limitMs = (Number(REPLICA_SETTINGS.SHUTDOWN_GRACE_SECONDS) + 5) * 1000;
    expect(stopped.A!.ms).toBeLessThan(limitMs);
    expect(stopped.B!.ms).toBeLessThan(limitMs);
  }, 300_000);
});

const SESSIONS = 20;
const STREAMS = 200;
const WORKERS = 6;

/**
 * A bounded loop of authenticated requests through nginx, as browsers of the signed-in sessions would
 * send them: mostly reads, every fourth a post (CSRF header and Origin like the app's page). Anything
 * but a 2xx, and any network error, is a failure.
 */
function startLoad(publicUrl: string, sessions: string[]): { stop(): void; done: Promise<{ run: string; total: number; failures: string[]; created: string[] }> } {
  let running = true;
  let total = 0;
  const failures: string[] = [];
  const created: string[] = [];
  const run = randomBytes(4).toString('hex');
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const cookie = sessions[(w * 7 + i) % sessions.length]!;
      const kind = i % 4;
      const [method, path, body] =
        kind === 3
          ? ['POST', '/api/posts', JSON.stringify({ title: `rolling ${run} ${w}-${i}`, body: 'written during a rolling restart' })]
          : kind === 1
            ? ['GET', '/api/posts?limit=5', undefined]
            : ['GET', '/api/user', undefined];
      const started = new Date().toISOString();
      try {
        const response = await fetch(`${publicUrl}${path}`, {
          method,
          body,
          headers: { cookie, accept: 'application/json', ...(body ? { 'content-type': 'application/json', 'x-csrf': '1', origin: publicUrl } : {}) },
        });
        const text = await response.text();
        if (response.status < 200 || response.status > 299) failures.push(`${started} ${method} ${path} → ${response.status} ${text.slice(0, 160)}`);
        else if (method === 'POST') created.push(JSON.parse(body!).title);
      } catch (error) {
        failures.push(`${started} ${method} ${path} → ${(error as Error).message} ${String((error as Error).cause ?? '')}`);
      }
      total += 1;
      await sleep(20);
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w))).then(() => ({ run, total, failures, created }));
  return { stop: () => void (running = false), done };
}

/** Titles of the posts one load run stored, duplicates included. */
async function postTitles(run: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ title: string }>('SELECT title FROM posts WHERE title LIKE $1', [`rolling ${run} %`]);
    return result.rows.map((row) => row.title);
  } finally {
    await client.end();
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
