import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnRedis } from '../support/ownRedis.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse, type SseStream } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const USERS = 12;
const REVOKED_BEFORE = 3;
const REVOKED_AFTER = 2;
const WORKERS = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface User {
  agent: UserAgent;
  cookie: string;
  providerSid: string;
  revoked: boolean;
  stream?: SseStream;
}

/**
 * Redis (a redis-server of the test's own, AOF on) is killed and restarted while two replicas serve
 * a bounded load and hold open event streams. A 503 is a right answer during the outage; a 200 for a
 * revoked session or a 401 for a live one is wrong.
 */
describe('Redis killed and restarted under load, with open streams', () => {
  let redis: OwnRedis;
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, ownRedis: true, env: { REDIS_COMMAND_TIMEOUT_MS: '1000', SSE_HEARTBEAT_SECONDS: '1' } });
    redis = world.redis!;
  }, 60_000);
  afterAll(() => world?.close());

  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const getUser = (user: User, replica: number) => fetch(at(replica, '/api/user'), { headers: { cookie: user.cookie } });
  /** The provider's logout for one session, retried while the app answers 503 (as a provider may). */
  const backchannelLogout = async (user: User) => {
    const token = await world.op.signLogoutToken({ sid: user.providerSid });
    for (let attempt = 0; attempt < 40; attempt++) {
      const response = await fetch(at(attempt % 2, '/auth/backchannel-logout'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      if (response.status === 200) return;
      expect(response.status).toBe(503);
      await sleep(250);
    }
    throw new Error('the back-channel logout never succeeded');
  };
  const allReady = async () => {
    for (let i = 0; i < 60; i++) {
      const answers = await Promise.all(world.apps.map((app) => fetch(`${app.url}/readyz`).then((r) => r.status)));
      if (answers.every((status) => status === 200)) return;
      await sleep(250);
    }
    throw new Error('the replicas did not become ready after Redis came back');
  };

  it('then wrong answers = 0, sessions lost = 0, and every stream is told or reconnects', async () => {
    const accounts = ['alice', 'bob', 'carol'] as const;
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) {
      const agent = new UserAgent();
      await signIn(agent, world, accounts[i % 3]);
      const sid = sessionIdOf(agent, world.baseUrl);
      const providerSid = (await world.apps[0]!.services.store.read(sid))!.auth!.providerSid!;
      users.push({ agent, cookie: agent.cookieHeader(world.baseUrl), providerSid, revoked: false });
    }
    for (const user of users.slice(0, REVOKED_BEFORE)) {
      await backchannelLogout(user);
      user.revoked = true;
    }
    for (const [i, user] of users.entries()) {
      if (user.revoked) continue;
      user.stream = await openSse(at(i % 2, '/api/events'), { cookie: user.cookie });
      expect(user.stream.status).toBe(200);
    }

    const tally = { requests: 0, ok: 0, unauthorized: 0, unavailable: 0, wrong: [] as string[] };
    let running = true;
    const worker = async (seed: number) => {
      for (let n = seed; running; n += WORKERS) {
        const user = users[(n * 7) % USERS]!;
        const replica = n % 2;
        tally.requests++;
        try {
          const response = await getUser(user, replica);
          const body = (await response.json()) as { error?: string };
          if (response.status === 503) tally.unavailable++;
          else if (response.status === 200 && !user.revoked) tally.ok++;
          else if (response.status === 401 && user.revoked && body.error === 'session_revoked') tally.unauthorized++;
          else tally.wrong.push(`${response.status} ${body.error ?? ''} for a ${user.revoked ? 'revoked' : 'live'} session`);
        } catch (err) {
          tally.wrong.push(`no answer: ${(err as Error).message}`);
        }
        await sleep(10);
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
    await sleep(1000);
    await redis.kill();
    await sleep(2500);
    await redis.restart();
    await sleep(3000);
    running = false;
    await load;

    await allReady();
    const revokedAfter = users.filter((u) => !u.revoked).slice(0, REVOKED_AFTER);
    for (const user of revokedAfter) {
      await backchannelLogout(user);
      user.revoked = true;
    }
    // One board event after the restart: every live stream must still hear the broadcast.
    const author = users.find((u) => !u.revoked)!;
    const post = await fetch(at(0, '/api/posts'), {
      method: 'POST',
      headers: { cookie: author.cookie, 'content-type': 'application/json', 'x-csrf': '1', origin: world.baseUrl },
      body: JSON.stringify({ title: 'after the restart', body: 'heard by every stream' }),
    });
    expect(post.status).toBe(201);

    let told = 0;
    let reconnected = 0;
    let heard = 0;
    const missed: string[] = [];
    for (const [i, user] of users.entries()) {
      if (!user.stream) continue;
      if (revokedAfter.includes(user)) {
        await user.stream.next((m) => m.event === 'session_invalidated', 5000).then(() => told++, () => missed.push(`stream ${i} not told`));
        continue;
      }
      const heardIt = await user.stream.next((m) => m.event === 'board_changed', 5000).then(() => true, () => false);
      if (heardIt) heard++;
      else {
        // An EventSource whose stream ended reconnects: that must work for a live session.
        const again = await openSse(at((i + 1) % 2, '/api/events'), { cookie: user.cookie });
        if (again.status === 200) reconnected++;
        else missed.push(`stream ${i}: silent, and its reconnect got ${again.status}`);
        again.close();
      }
    }
    for (const user of users) user.stream?.close();

    const finals = await Promise.all(users.map(async (user, i) => ({ user, status: (await getUser(user, i % 2)).status })));
    const lost = finals.filter(({ user, status }) => !user.revoked && status !== 200).length;
    const resurrected = finals.filter(({ user, status }) => user.revoked && status !== 401).length;
    const liveStreams = users.filter((u) => u.stream).length;

    console.log(
      `redis kill/restart: ${tally.requests} requests (${tally.ok} × 200, ${tally.unauthorized} × 401 revoked, ${tally.unavailable} × 503), ` +
        `wrong answers ${tally.wrong.length}, sessions lost ${lost}, revoked sessions alive ${resurrected}; ` +
        `streams ${liveStreams}: told ${told}/${REVOKED_AFTER}, heard the broadcast ${heard}, reconnected ${reconnected}`,
    );
    expect(tally.wrong).toEqual([]);
    expect(tally.unavailable).toBeGreaterThan(0); // the outage was real
    expect(tally.ok).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(resurrected).toBe(0);
    expect(missed).toEqual([]);
    expect(told + heard + reconnected).toBe(liveStreams);
  }, 90_000);
});
