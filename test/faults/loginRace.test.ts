import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnRedis } from '../support/ownRedis.js';
import { holdIndexWrite } from '../support/holdIndexWrite.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every write that creates a session re-checks revocation after the write. The window between the
 * callback writing the session index and saving the session record (the user-provisioning call) is
 * widened with a lock on the users table in PostgreSQL; the window before the index write (the
 * callback holds the provider's tokens, its session is nowhere yet) by holding the callback's
 * index write itself.
 */
describe('a back-channel logout that lands while the callback is signing the user in', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2 });
  }, 60_000);
  afterAll(() => world?.close());

  it('when the logout token for the login\'s sid arrives between the index write and the session save, then the new session is dead (401 session_revoked) on every replica', async () => {
    const { services } = world.apps[0]!;
    const agent = new UserAgent();
    // A first sign-in opens the provider session; the second one below reuses it, so its `sid` is known.
    await signIn(agent, world, 'alice');
    const first = sessionIdOf(agent, world.baseUrl);
    const providerSid = (await services.store.read(first))!.auth!.providerSid!;
    expect(providerSid).toBeTruthy();

    const locker = new pg.Client({ connectionString: services.config.database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    let answered = false;
    const login = signIn(agent, world, 'alice').finally(() => (answered = true));
    try {
      // Wait for the callback to index its new session: it now waits on the users table.
      let pending: string | undefined;
      for (let i = 0; i < 100 && !pending; i++) {
        pending = (await services.index.byProviderSession(world.op.issuer, providerSid)).find((sid) => sid !== first);
        if (!pending) await sleep(20);
      }
      expect(pending).toBeDefined();
      expect(answered).toBe(false);
      expect(await services.store.read(pending!)).toBeNull(); // the record is not saved yet

      const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' });
      const logout = await fetch(`${world.apps[1]!.url}/auth/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      expect(logout.status).toBe(200);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const callback = (await login).response;
    const sid = sessionIdOf(agent, world.baseUrl);
    const answers = await Promise.all(world.apps.map((app) => agent.fetch(`${app.url}/api/user`)));
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ error?: string }>));
    console.log(`login race: callback ${callback.status}, then /api/user ${answers.map((r, i) => `${r.status} ${bodies[i]!.error ?? ''}`).join(', ')}`);
    expect(sid).not.toBe(first);
    expect(answers.map((r) => r.status)).toEqual([401, 401]);
    expect(bodies.map((b) => b.error)).toEqual(['session_revoked', 'session_revoked']);
    expect(await services.store.read(sid)).toBeNull();
    const status = await (await agent.fetch(`${world.apps[0]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'backchannel_logout' });
  }, 30_000);
});

describe.each([
  { store: 'Redis, two replicas', replicas: 2, redis: true },
  { store: 'in-process twin', replicas: 1, redis: false },
])('a back-channel logout that lands before the callback has indexed its session ($store)', ({ replicas, redis }) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas, redis });
  }, 60_000);
  afterAll(() => world?.close());

  const logout = async (claims: { sid: string; sub: string }) => {
    const token = await world.op.signLogoutToken(claims);
    return fetch(`${world.apps.at(-1)!.url}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    });
  };

  it('when the logout token for the login\'s sid is processed after the code exchange but before the index write, then the new session is dead (401 session_revoked) on every replica', async () => {
    const { services } = world.apps[0]!;
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const first = sessionIdOf(agent, world.baseUrl);
    const providerSid = (await services.store.read(first))!.auth!.providerSid!;

    const hold = holdIndexWrite(services.index, providerSid);
    let answered = false;
    const login = signIn(agent, world, 'alice').finally(() => (answered = true));
    try {
      await hold.atIndexWrite; // the code is exchanged: the callback holds tokens of providerSid
      expect(answered).toBe(false);
      expect((await services.index.byProviderSession(world.op.issuer, providerSid)).filter((sid) => sid !== first)).toEqual([]);
      expect((await logout({ sid: providerSid, sub: 'alice' })).status).toBe(200);
    } finally {
      hold.release();
    }
    const callback = (await login).response;
    const sid = sessionIdOf(agent, world.baseUrl);
    const answers = await Promise.all(world.apps.map((app) => agent.fetch(`${app.url}/api/user`)));
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ error?: string }>));
    console.log(`login race before the index write: callback ${callback.status}, then /api/user ${answers.map((r, i) => `${r.status} ${bodies[i]!.error ?? ''}`).join(', ')}`);
    expect(sid).not.toBe(first);
    expect(callback.status).toBe(401);
    expect(answers.map((r) => r.status)).toEqual(world.apps.map(() => 401));
    expect(bodies.map((b) => b.error)).toEqual(world.apps.map(() => 'session_revoked'));
    expect(await services.store.read(sid)).toBeNull();
    expect(await services.index.byProviderSession(world.op.issuer, providerSid)).toEqual([]);
    const status = await (await agent.fetch(`${world.apps[0]!.url}/api/session-status`)).json();
    expect(status).toEqual({ authenticated: true, sessionActive: false, reason: 'backchannel_logout' });
  }, 30_000);

  it('when the provider keeps the sid and the browser signs in again after the logout (tokens issued in a later second), then that session lives', async () => {
    const { services } = world.apps[0]!;
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const first = sessionIdOf(agent, world.baseUrl);
    const providerSid = (await services.store.read(first))!.auth!.providerSid!;
    expect((await logout({ sid: providerSid, sub: 'bob' })).status).toBe(200);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);

    // The end is kept to the second of the logout token's iat: a sign-in with tokens issued later is a new one.
    await sleep(1000 - (Date.now() % 1000) + 50);
    await signIn(agent, world, 'bob');
    const again = sessionIdOf(agent, world.baseUrl);
    expect(again).not.toBe(first);
    expect((await services.store.read(again))!.auth!.providerSid).toBe(providerSid);
    expect(await Promise.all(world.apps.map(async (app) => (await agent.fetch(`${app.url}/api/user`)).status))).toEqual(world.apps.map(() => 200));
  }, 30_000);
});

describe('a sign-in whose session save times out (Redis stalled while the callback waits on the users table)', () => {
  let redis: OwnRedis;
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ ownRedis: true, env: { REDIS_COMMAND_TIMEOUT_MS: '500' } });
    redis = world.redis!;
  }, 60_000);
  afterAll(() => world?.close());

  it('when the SET times out and runs later, then the callback answers 503 with no session cookie and no session record is left', async () => {
    const { services } = world.apps[0]!;
    const agent = new UserAgent();
    const locker = new pg.Client({ connectionString: services.config.database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const login = signIn(agent, world, 'bob');
    let pending: string[] = [];
    try {
      for (let i = 0; i < 100 && pending.length === 0; i++) {
        pending = await services.index.byUser(world.op.issuer, 'bob');
        if (pending.length === 0) await sleep(20);
      }
      expect(pending).toHaveLength(1);
      redis.pause();
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const callback = (await login).response;
    await sleep(300);
    redis.resume();
    await sleep(500); // the late SET, and whatever followed it, have run now
    const record = await services.store.read(pending[0]!);
    const cookie = agent.cookie(world.baseUrl, 'bff.sid');
    const user = await agent.fetch(`${world.apps[0]!.url}/api/user`);
    console.log(`late session save: callback ${callback.status}, session cookie ${cookie ? 'set' : 'none'}, record ${record ? 'left' : 'none'}, /api/user ${user.status}`);
    expect(callback.status).toBe(503);
    expect(cookie).toBeUndefined();
    expect(record).toBeNull();
    expect(user.status).toBe(401);
  }, 30_000);
});
