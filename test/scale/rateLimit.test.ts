import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createErrorHandler } from '../../src/http/errorHandler.js';
import { createRateLimits } from '../../src/http/rateLimit.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../support/ports.js';
import { listenOnLoopback, urlOf } from '../support/testApp.js';
import { startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('rate limits shared by two replicas through Redis', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      replicas: 2,
      env: {
        // Client addresses come from X-Forwarded-For, as behind a proxy on loopback.
        TRUST_PROXY: 'loopback',
        RATE_LIMIT_LOGIN: '5',
        RATE_LIMIT_CALLBACK: '4',
        RATE_LIMIT_BACKCHANNEL: '3',
        RATE_LIMIT_PROVIDER_ADDRESSES: '192.0.2.0/24,2001:db8::7',
      },
    });
  });
  afterAll(() => world?.close());

  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('when one address asks for /auth/login on both replicas, then the limit holds in sum and the 429 carries Retry-After and the error JSON', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const answer = await fetch(at(i % 2, '/auth/login'), { headers: from('198.51.100.7'), redirect: 'manual' });
      statuses.push(answer.status);
      if (answer.status === 429) refused ??= answer;
      else await answer.arrayBuffer();
    }
    expect(statuses).toEqual([302, 302, 302, 302, 302, 429, 429, 429]);
    const counted = await Promise.all(world.apps.map(async (app) => (await app.services.metrics.rateLimited.get()).values.find((v) => v.labels.route === 'login')?.value ?? 0));
    expect(counted[0]! + counted[1]!).toBe(3);
    const retryAfter = Number(refused!.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(refused!.headers.get('cache-control')).toBe('no-store');
    expect(await refused!.json()).toEqual({ error: 'rate_limited', error_description: expect.stringContaining('Too many requests') });

    // Another address is counted on its own.
    const other = await fetch(at(1, '/auth/login'), { headers: from('198.51.100.8'), redirect: 'manual' });
    expect(other.status).toBe(302);
  });

  it('when one address floods /auth/callback, then it is refused past the limit on both replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await fetch(at(i % 2, '/auth/callback?code=x&state=y'), { headers: { ...from('198.51.100.9'), accept: 'application/json' } });
      statuses.push(answer.status);
      await answer.arrayBuffer();
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
  });

  it('when an unknown address floods the back-channel, then it is refused past the limit; a burst from the provider\'s addresses never is', async () => {
    const post = (replica: number, address: string, body: string) =>
      fetch(at(replica, '/auth/backchannel-logout'), { method: 'POST', headers: { ...FORM, ...from(address) }, body });
    const stranger: number[] = [];
    for (let i = 0; i < 5; i++) stranger.push((await post(i % 2, '203.0.113.9', 'logout_token=not-a-jwt')).status);
    expect(stranger).toEqual([400, 400, 400, 429, 429]);

    // Valid tokens count for nothing: five times the limit from an address nobody listed (a proxy hop, SNAT).
    const relayed: number[] = [];
    for (let i = 0; i < 15; i++) {
      const token = await world.op.signLogoutToken({ sub: `relayed-${i}` });
      relayed.push((await post(i % 2, '203.0.113.10', new URLSearchParams({ logout_token: token }).toString())).status);
    }
    expect(relayed).toEqual(Array(15).fill(200));

    // Ten times the limit, valid tokens, from an address inside the allow-listed block and from the listed IPv6 address.
    const provider: number[] = [];
    for (let i = 0; i < 30; i++) {
      const token = await world.op.signLogoutToken({ sub: `nobody-${i}` });
      provider.push((await post(i % 2, i % 3 === 0 ? '2001:db8::7' : '192.0.2.44', new URLSearchParams({ logout_token: token }).toString())).status);
    }
    expect(provider).toEqual(Array(30).fill(200));
  });
});

describe('rate limits when Redis cannot count', () => {
  let redis: Redis;
  let server: Awaited<ReturnType<typeof listenOnLoopback>>;
  beforeAll(async () => {
    // A real client to a port nothing listens on: every limiter command fails.
    redis = new Redis({ port: await freePort(), host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000 });
    redis.on('error', () => undefined);
    const config = loadConfig({ OIDC_ISSUER: 'http://127.0.0.1:1/realms/x', CLIENT_ID: 'c', CLIENT_SECRET: 's' });
    const log = createLogger({ level: 'silent' });
    const limits = createRateLimits({ settings: config.rateLimit, redis, prefix: 'test:rl-down:', log });
    const app = express();
    app.get('/auth/login', limits.login, (_req, res) => void res.status(302).end());
    app.post('/auth/backchannel-logout', async (req, res) => {
      await limits.backchannelGate(req.ip, res);
      res.status(200).end();
    });
    app.use(createErrorHandler(log));
    server = await listenOnLoopback();
    server.on('request', app);
  });
  afterAll(async () => {
    redis?.disconnect();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('when the limiter\'s Redis is down, then sign-in fails closed (503) and a logout token still passes (fail open)', async () => {
    const login = await fetch(`${urlOf(server)}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(503);
    expect(await login.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const backchannel = await fetch(`${urlOf(server)}/auth/backchannel-logout`, { method: 'POST', headers: FORM, body: 'logout_token=x' });
    expect(backchannel.status).toBe(200);
  });
});
