import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween, redisCounters, type RedisCounters } from '../support/redisCounters.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

/**
 * The regression guard of the performance work (README "Performance"): Redis work per
 * authenticated request and per logout token, counted on a redis-server of this file's own (INFO commandstats counts
 * the whole server), requests sent one at a time so read events equal round trips. A change that
 * adds a command or a round trip to the hot path fails here; lower the budget when one goes away.
 */
const BUDGET = {
  /**
   * Commands per authenticated API request: GET of the record, GET of its tombstone, PTTL (renewal
   * due?), ZRANGEBYSCORE of the issuer's not-before (Keycloak admin actions).
   */
  commands: 4,
  /** Round trips (read events at the server) per request: those four, pipelined; the EXPIRE that renews the idle timeout comes once a minute, not per request. */
  roundTrips: 1,
};
/** Per valid logout token naming a user (`sub`) and no session of ours: the endpoint's storm path. */
const BACKCHANNEL_BUDGET = {
  /**
   * GET of the address's refused-token count (rate limit), GET of the `jti` marker, ZRANGEBYSCORE
   * of the user's index, SET of the `jti` marker once done.
   */
  commands: 4,
  /** The count, the marker and the index together (sent before the signature is verified); the marker's SET. */
  roundTrips: 2,
};
/**
 * Per valid logout token naming only a provider session (`sid`) of no session of ours (with `sub`
 * too, the user's index is read as well, and the user re-checked later: UserRecheck). The index
 * is read again after the provider session's end is written, so a sign-in racing the token cannot
 * be missed (test/faults/loginRace.test.ts): one round trip more than before that write existed
 * (3 where it was 2). The index is read before verification too, so that the sessions found then
 * are told in the round trip of the end's write (one command more, 5 → 6).
 */
const BACKCHANNEL_SID_BUDGET = {
  /**
   * GET of the refused-token count, GET of the `jti` marker, ZRANGEBYSCORE of the provider
   * session's index (before verification); SET of the provider session's end, ZRANGEBYSCORE of its
   * index again; SET of the `jti` marker.
   */
  commands: 6,
  /** The count and the `jti` marker; the end and the index read together; the `jti` marker's SET. */
  roundTrips: 3,
};
const REQUESTS = 20;

describe('Redis work per request on the hot paths', () => {
  let redis: RedisCounters;
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ ownRedis: true });
    redis = redisCounters(world.redis!.url);
  });
  afterAll(async () => {
    redis?.close();
    await world?.close();
  });

  /** Redis work per call of `send` (which must have been called once before, to warm up). */
  const measure = async (send: () => Promise<void>) => {
    const calls = await redis.commandCalls();
    const reads = await redis.readsProcessed();
    for (let i = 0; i < REQUESTS; i++) await send();
    // The two INFO calls of the counting itself are one read each; commandstats leaves INFO out.
    const roundTrips = (await redis.readsProcessed()) - reads - 1;
    const commands = callsBetween(calls, await redis.commandCalls());
    const total = Object.values(commands).reduce((a, b) => a + b, 0);
    return { commands, commandsPerRequest: total / REQUESTS, roundTripsPerRequest: roundTrips / REQUESTS };
  };
  const get = (agent: UserAgent, path: string) => async () => {
    const response = await agent.fetch(`${world.baseUrl}${path}`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  };

  it.each(['/api/user', '/api/session-status', '/api/posts'])(
    'when a signed-in browser calls GET %s, then each request costs Redis no more than the budget',
    async (path) => {
      const agent = new UserAgent();
      await signIn(agent, world, 'alice');
      await get(agent, path)();
      const { commands, commandsPerRequest, roundTripsPerRequest } = await measure(get(agent, path));
      expect(commandsPerRequest, `commands: ${JSON.stringify(commands)}`).toBeLessThanOrEqual(BUDGET.commands);
      expect(roundTripsPerRequest).toBeLessThanOrEqual(BUDGET.roundTrips);
      // The counting sees the requests at all (a guard against measuring nothing).
      expect(commandsPerRequest).toBeGreaterThanOrEqual(1);
    },
  );

  it.each([
    ['naming a user', BACKCHANNEL_BUDGET, () => ({ sub: `nobody-${randomUUID()}` })],
    ['naming a provider session', BACKCHANNEL_SID_BUDGET, () => ({ sid: randomUUID() })],
  ] as const)('when the provider posts valid logout tokens %s one after another, then each costs Redis no more than its back-channel budget', async (_, budget, claims) => {
    const post = async () => {
      const token = await world.op.signLogoutToken(claims());
      const response = await fetch(`${world.baseUrl}/auth/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      expect(response.status).toBe(200);
    };
    await post();
    const { commands, commandsPerRequest, roundTripsPerRequest } = await measure(post);
    expect(commandsPerRequest, `commands: ${JSON.stringify(commands)}`).toBeLessThanOrEqual(budget.commands);
    expect(roundTripsPerRequest).toBeLessThanOrEqual(budget.roundTrips);
    expect(commandsPerRequest).toBeGreaterThanOrEqual(1);
  });

  it('when a browser signs in, then its tokens live beside the session record, not in it, and a revocation deletes both', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const sid = sessionIdOf(agent, world.baseUrl);
    const { store, revoke } = world.apps[0]!.services;
    const record = (await store.read(sid))!;
    // The record every request parses and hashes keeps only the tokens' times.
    expect(record.auth!.tokens).toEqual({ expiresAt: expect.any(Number), issuedAt: expect.any(Number) });
    expect(await store.readTokens(sid, record.auth!)).toMatchObject({
      accessToken: expect.any(String),
      idToken: expect.stringMatching(/^ey/),
      expiresAt: record.auth!.tokens.expiresAt,
    });
    const tokensKey = `${world.prefix}tok:${sid}`;
    const recordKey = `${world.prefix}sess:${sid}`;
    // They live as long as the record does (idle timeout + slack), and go with it.
    expect(Number((await world.redis!.command(['PTTL', tokensKey])).slice(1))).toBeGreaterThan(1800_000);
    await revoke([sid], 'revoked');
    expect(await world.redis!.command(['EXISTS', tokensKey, recordKey])).toBe(':0');
  });

  it('when a session record still holds its tokens (written by an older version), then it keeps working and its logout still names the ID token', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const sid = sessionIdOf(agent, world.baseUrl);
    const { store } = world.apps[0]!.services;
    const record = (await store.read(sid))!;
    const { accessToken, refreshToken, idToken, expiresAt } = (await store.readTokens(sid, record.auth!))!;
    // Arrange the older layout: the tokens inside the record, no key of their own.
    const legacy = { ...record, auth: { ...record.auth, tokens: { accessToken, refreshToken, idToken, expiresAt } } };
    await world.redis!.command(['SET', `${world.prefix}sess:${sid}`, JSON.stringify(legacy), 'PX', '1800000']);
    await world.redis!.command(['DEL', `${world.prefix}tok:${sid}`]);

    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(200);
    const response = await agent.fetch(`${world.baseUrl}/auth/logout`, {
      headers: { accept: 'application/json, text/plain, */*', origin: world.baseUrl },
    });
    expect(response.status).toBe(200);
    const { logoutUrl } = (await response.json()) as { logoutUrl: string };
    expect(new URL(logoutUrl).searchParams.get('id_token_hint')).toBe(idToken);
    expect((await agent.fetch(`${world.baseUrl}/api/user`)).status).toBe(401);
  });

  it('when a signed-in browser keeps calling the API, then the cookie is not re-sent and the idle timeout is renewed only once due', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const key = `${world.prefix}sess:${sessionIdOf(agent, world.baseUrl)}`;
    const idleMs = 1800_000;
    const slackMs = 60_000;
    const ttl = async () => Number(await world.redis!.command(['PTTL', key]).then((line) => line.slice(1)));
    expect(await ttl()).toBeGreaterThan(idleMs);

    // Not due: no Set-Cookie, and the TTL is left as it is (it only runs down).
    const first = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(first.status).toBe(200);
    expect(first.headers.getSetCookie()).toEqual([]);
    const before = await ttl();
    await agent.fetch(`${world.baseUrl}/api/user`);
    expect(await ttl()).toBeLessThanOrEqual(before);

    // Due (less than the idle timeout left): this request renews it to idle + slack.
    await world.redis!.command(['PEXPIRE', key, String(idleMs - 5_000)]);
    const renewing = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(renewing.status).toBe(200);
    expect(renewing.headers.getSetCookie()).toEqual([]);
    expect(await ttl()).toBeGreaterThan(idleMs + slackMs - 10_000);
  });
});
