import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween, startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

/**
 * The regression guard of the performance work (README "Performance"): Redis work per
 * authenticated request, counted on a redis-server of this file's own (INFO commandstats counts
 * the whole server), requests sent one at a time so read events equal round trips. A change that
 * adds a command or a round trip to the hot path fails here; lower the budget when one goes away.
 */
const BUDGET = {
  /** Commands per authenticated API request (the session record's GET and its idle-timeout renewal). */
  commands: 2,
  /** Round trips (read events at the server) per request. */
  roundTrips: 2,
};
const REQUESTS = 20;

describe('Redis work per authenticated request', () => {
  let redis: PrivateRedis;
  let world: World;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    world = await startWorld({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await world?.close();
    await redis?.stop();
  });

  const measure = async (agent: UserAgent, path: string) => {
    expect((await agent.fetch(`${world.baseUrl}${path}`)).status).toBe(200);
    const calls = await redis.commandCalls();
    const reads = await redis.readsProcessed();
    for (let i = 0; i < REQUESTS; i++) {
      const response = await agent.fetch(`${world.baseUrl}${path}`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    // The two INFO calls of the counting itself are one read each; commandstats leaves INFO out.
    const roundTrips = (await redis.readsProcessed()) - reads - 1;
    const commands = callsBetween(calls, await redis.commandCalls());
    const total = Object.values(commands).reduce((a, b) => a + b, 0);
    return { commands, commandsPerRequest: total / REQUESTS, roundTripsPerRequest: roundTrips / REQUESTS };
  };

  it.each(['/api/user', '/api/session-status', '/api/posts'])(
    'when a signed-in browser calls GET %s, then each request costs Redis no more than the budget',
    async (path) => {
      const agent = new UserAgent();
      await signIn(agent, world, 'alice');
      const { commands, commandsPerRequest, roundTripsPerRequest } = await measure(agent, path);
      expect(commandsPerRequest, `commands: ${JSON.stringify(commands)}`).toBeLessThanOrEqual(BUDGET.commands);
      expect(roundTripsPerRequest).toBeLessThanOrEqual(BUDGET.roundTrips);
      // The counting sees the requests at all (a guard against measuring nothing).
      expect(commandsPerRequest).toBeGreaterThanOrEqual(1);
    },
  );
});
