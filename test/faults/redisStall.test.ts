import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnRedis } from '../support/ownRedis.js';
import { keepAliveClient } from '../support/rawHttp.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const COMMAND_TIMEOUT_MS = 1000;
const STALL_MS = 2500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Storage trouble never changes who is signed in: a Redis of the test's own, stalled, killed, refusing. */
describe('Redis stalls and outages (own redis-server)', () => {
  let redis: OwnRedis;
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ ownRedis: true, env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
    redis = world.redis!;
  }, 60_000);
  afterAll(() => world?.close());

  const url = (path: string) => `${world.apps[0]!.url}${path}`;
  const sessionKey = (agent: UserAgent) => `${world.prefix}sess:${sessionIdOf(agent, world.baseUrl)}`;
  /** MONITOR lines that delete or (re)write `key`. */
  const writesOf = (lines: string[], key: string) =>
    lines.filter((line) => line.includes(`"${key}"`) && /"(del|unlink|set|setex|getdel|rename)"/i.test(line));

  it('when Redis is stopped (SIGSTOP) longer than the command timeout during GET /api/user, then 503 during the stall, 200 with the same cookie after, and no DEL or SET of that session', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const key = sessionKey(agent);
    const monitor = await redis.monitor();

    // One kept-alive connection too: a store call failing after a 503 went out must not reset it.
    const client = keepAliveClient();
    const headers = { cookie: agent.cookieHeader(world.baseUrl) };

    redis.pause();
    const during = await Promise.all([agent.fetch(url('/api/user')), sleep(300).then(() => agent.fetch(url('/api/user')))]);
    const onConnection = [await client.get(url('/api/user'), headers)];
    await sleep(Math.max(STALL_MS - 2 * COMMAND_TIMEOUT_MS - 300, 0));
    redis.resume();
    await sleep(500); // whatever was queued on the connections runs now
    const after = await agent.fetch(url('/api/user'));
    onConnection.push(await client.get(url('/api/user'), headers));
    await sleep(100);
    monitor.close();
    client.close();

    console.log(`redis stall: during ${during.map((r) => r.status).join(',')}, after ${after.status}; ` +
      `kept-alive connection ${JSON.stringify(onConnection)} over ${client.connections} connection(s); ` +
      `DEL/SET of the session seen by MONITOR: ${writesOf(monitor.lines, key).length}`);
    expect(during.map((r) => r.status)).toEqual([503, 503]);
    expect(await during[0]!.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(after.status).toBe(200);
    expect(onConnection).toEqual([{ status: 503 }, { status: 200 }]);
    expect(client.connections).toBe(1);
    expect(monitor.lines.some((line) => line.includes(`"${key}"`))).toBe(true); // MONITOR did see the session's reads
    expect(writesOf(monitor.lines, key)).toEqual([]);
  }, 30_000);

  it('when Redis is down (killed), then every request on one kept-alive connection is answered 503 (no reset), and after the restart the same cookie is signed in', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const client = keepAliveClient();
    const headers = { cookie: agent.cookieHeader(world.baseUrl) };
    expect(await client.get(url('/api/user'), headers)).toEqual({ status: 200 });

    await redis.kill();
    const outcomes: Array<{ status: number } | { error: string }> = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) outcomes.push(await client.get(url('/api/user'), headers));
    await redis.restart();
    await sleep(COMMAND_TIMEOUT_MS); // ioredis reconnects with backoff
    let back = await client.get(url('/api/user'), headers);
    for (let i = 0; i < 20 && 'status' in back && back.status === 503; i++) {
      await sleep(250);
      back = await client.get(url('/api/user'), headers);
    }
    const resets = outcomes.filter((o) => 'error' in o).length;
    console.log(`redis down: ${outcomes.length} requests on one keep-alive connection, ` +
      `${outcomes.filter((o) => 'status' in o && o.status === 503).length} × 503, ${resets} resets, ` +
      `${client.connections} connection(s); after restart ${'status' in back ? back.status : back.error}`);
    client.close();
    expect(outcomes.length).toBeGreaterThan(5);
    expect(resets).toBe(0);
    expect(outcomes.every((o) => 'status' in o && o.status === 503)).toBe(true);
    expect(client.connections).toBe(1);
    expect(back).toEqual({ status: 200 });
  }, 30_000);

  it('when Redis refuses the idle-TTL renewal (ACL denies EXPIRE), then answers stay 200 on the same kept-alive connection and the session lives', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const client = keepAliveClient();
    const headers = { cookie: agent.cookieHeader(world.baseUrl) };
    const acl = await redis.command(['ACL', 'SETUSER', 'default', '-expire']);
    expect(acl).toBe('+OK');
    const logs = world.apps[0]!.logs;
    const logsBefore = logs.length;
    try {
      const outcomes = [];
      for (let i = 0; i < 10; i++) outcomes.push(await client.get(url('/api/user'), headers));
      console.log(`refused renewal: ${JSON.stringify(outcomes.map((o) => ('status' in o ? o.status : o.error)))}, ${client.connections} connection(s)`);
      expect(outcomes).toEqual(Array(10).fill({ status: 200 }));
      expect(client.connections).toBe(1);
      // Not reported as a failed request after the 200 went out.
      expect(logs.slice(logsBefore).filter((line) => line.includes('"level":"error"'))).toEqual([]);
    } finally {
      await redis.command(['ACL', 'SETUSER', 'default', '+@all']);
      client.close();
    }
  }, 30_000);
});
