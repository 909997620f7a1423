import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { listenOnLoopback, urlOf } from '../support/testApp.js';
import { startWorld, type World } from '../support/world.js';
import { loginAs } from './support/boardBrowser.js';

/**
 * A React client written for the sample this product replaces, unchanged: on its own origin, plain
 * `EventSource` + `onmessage` comparing `event.data`, and axios with `withCredentials`. It must keep
 * working against the BFF (the contract in DESIGN.md).
 */
const legacyPage = (bff: string) => `<!doctype html><meta charset="utf-8"><title>legacy client</title>
<script src="/axios.min.js"></script>
<script>
  window.messages = [];
  window.api = axios.create({ baseURL: ${JSON.stringify(bff)}, withCredentials: true });
  window.listen = () => {
    const source = new EventSource(${JSON.stringify(bff)} + '/api/events', { withCredentials: true });
    source.onmessage = (event) => {
      messages.push(event.data);
      if (event.data === 'session_invalidated') source.close();
    };
  };
  window.call = (method, path) => api.request({ method, url: path })
    .then((r) => ({ status: r.status, data: r.data }), (e) => ({ status: e.response.status, data: e.response.data }));
</script>`;

describe('an existing client (EventSource onmessage + axios withCredentials) on another origin', () => {
  let world: World;
  let browser: TestBrowser;
  let legacy: Server;
  let legacyUrl: string;

  beforeAll(async () => {
    legacy = await listenOnLoopback();
    legacyUrl = urlOf(legacy);
    // The UMD build a <script> tag loads (not in the package's "exports": found beside its main file).
    const axiosFile = join(dirname(createRequire(import.meta.url).resolve('axios')), '..', 'axios.min.js');
    const axiosJs = await readFile(axiosFile, 'utf8');
    [world, browser] = await Promise.all([startWorld({ env: { FRONTEND_URL: `${legacyUrl}/` } }), launchBrowser()]);
    legacy.on('request', (req, res) => {
      res.setHeader('content-type', req.url === '/axios.min.js' ? 'text/javascript' : 'text/html; charset=utf-8');
      res.end(req.url === '/axios.min.js' ? axiosJs : legacyPage(world.baseUrl));
    });
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
    legacy?.closeAllConnections();
    await new Promise((resolve) => legacy?.close(resolve));
  });

  const signedInLegacyPage = async (): Promise<Page> => {
    const context = await browser.newContext();
    await loginAs(context, world, 'alice');
    const page = await context.newPage();
    await page.goto(`${world.baseUrl}/auth/login?returnTo=/`);
    await page.waitForURL(`${legacyUrl}/`); // FRONTEND_URL: back on the client's own origin
    await page.waitForFunction('typeof window.call === "function"');
    return page;
  };

  it('reads the user with axios, hears "connected" and then "session_invalidated" on onmessage, and sees 401 session_revoked', async () => {
    const page = await signedInLegacyPage();
    const user = await page.evaluate<{ status: number; data: any }>("call('get', '/api/user')");
    expect(user).toMatchObject({ status: 200, data: { user: { username: 'alice', name: 'Alice Archer' } } });
    await page.evaluate('listen()');
    await page.waitForFunction('messages.includes("connected")');

    const providerSession = (await page.context().cookies(world.op.issuer)).find((c) => c.name === '_session')!.value;
    await world.op.admin.signOutSession(providerSession);
    await page.waitForFunction('messages.includes("session_invalidated")', undefined, { timeout: 3000 });
    expect(await page.evaluate<string[]>('messages')).toEqual(['connected', 'session_invalidated']);

    expect(await page.evaluate("call('get', '/api/user')")).toMatchObject({ status: 401, data: { error: 'session_revoked' } });
    expect(await page.evaluate("call('get', '/api/session-status')")).toMatchObject({
      status: 200,
      data: { authenticated: true, sessionActive: false, reason: 'backchannel_logout' },
    });
  });

  it('logs out with a plain axios GET /auth/logout and gets the JSON logoutUrl, not a redirect', async () => {
    const page = await signedInLegacyPage();
    const answer = await page.evaluate<{ status: number; data: { logoutUrl: string } }>("call('get', '/auth/logout')");
    expect(answer.status).toBe(200);
    expect(new URL(answer.data.logoutUrl).origin).toBe(new URL(world.op.issuer).origin);
    expect(await page.evaluate("call('get', '/api/user')")).toMatchObject({ status: 401 });
  });
});
