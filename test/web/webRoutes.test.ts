import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebRouter } from '../../src/http/webRoutes.js';
import { formatLogLine } from '../../dev/demoLog.js';
import { listenOnLoopback, urlOf } from '../support/testApp.js';

describe('createWebRouter (the built app on the BFF’s origin)', () => {
  let dir: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'board-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
    const app = express();
    app.use(createWebRouter(dir));
    app.use((_req, res) => void res.status(404).json({ error: 'not_found' }));
    server = await listenOnLoopback();
    server.on('request', app);
    url = urlOf(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true });
  });

  const get = (path: string, accept = 'text/html,application/xhtml+xml') => fetch(`${url}${path}`, { headers: { accept } });

  it('answers page navigations, including client-side routes, with index.html', async () => {
    for (const path of ['/', '/posts/7', '/sessions']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>app</title>');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('serves assets, revalidated on every use', async () => {
    const response = await get('/assets/app.js', '*/*');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('never answers /api or /auth, API callers, or missing files with the page', async () => {
    for (const [path, accept] of [['/api/nope', undefined], ['/auth/nope', undefined], ['/posts/7', 'application/json'], ['/assets/missing.js', '*/*']] as const) {
      const response = await get(path, accept);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found' });
    }
  });

  it('serves nothing when the app was not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'board-web-empty-'));
    expect(createWebRouter(empty).stack).toHaveLength(0);
    expect(createWebRouter(undefined).stack).toHaveLength(0);
    await rm(empty, { recursive: true });
  });
});

describe('the demo’s log view', () => {
  const line = (entry: object) => JSON.stringify({ level: 30, time: Date.parse('2026-01-01T10:00:00Z'), pid: 1, hostname: 'h', service: 'board-bff', ...entry });

  it('shows sign-in, back-channel and failing requests briefly, and leaves out assets and polling', () => {
    const access = (method: string, url: string, statusCode: number) => line({ msg: 'request completed', req: { method, url }, res: { statusCode }, reqId: 'x' });
    expect(formatLogLine(access('GET', '/auth/callback?code=abc&state=def', 302))).toMatch(/GET \/auth\/callback → 302$/);
    expect(formatLogLine(access('POST', '/auth/backchannel-logout', 200))).toMatch(/POST \/auth\/backchannel-logout → 200$/);
    expect(formatLogLine(access('GET', '/api/user', 401))).toMatch(/GET \/api\/user → 401$/);
    expect(formatLogLine(access('GET', '/assets/app.js', 200))).toBeUndefined();
    expect(formatLogLine(access('GET', '/api/session-status', 200))).toBeUndefined();
  });

  it('turns other lines into "time  message  (fields)" and marks warnings', () => {
    const shown = formatLogLine(line({ level: 40, msg: 'REDIS_URL is not set', component: 'x' }))!;
    expect(shown).toMatch(/^\d\d:\d\d:\d\d {2}warn {2}REDIS_URL is not set {2}\(component=x\)$/);
    expect(formatLogLine('not json')).toBe('not json');
    expect(formatLogLine(line({ msg: 'Sign in first', code: 'unauthenticated', status: 401 }))).toBeUndefined();
  });
});
