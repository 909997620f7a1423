import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, topics } from '../../src/events/eventBus.js';
import { keyDigest, redisKeys } from '../../src/storage/keys.js';
import { redisCommand, startRedisCluster, type RedisCluster } from '../support/redisTopology.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('two replicas on a Redis Cluster (3 primaries, 3 replicas, started by this test)', () => {
  let cluster: RedisCluster;
  let world: World;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    world = await startWorld({
      replicas: 2,
      redisEnv: { REDIS_CLUSTER_NODES: cluster.seeds },
      // Sessions are scheduled for a provider check an hour out; the liveness test makes one due by hand.
      env: { TOKEN_REFRESH_SKEW_SECONDS: '30', LIVENESS_INTERVAL_SECONDS: '3600', RATE_LIMIT_LOGIN: '30' },
    });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await cluster?.stop();
  });

  const [A, B] = [0, 1];
  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const services = (replica: number) => world.apps[replica]!.services;
  const streamFor = (agent: UserAgent, replica: number) => openSse(at(replica, '/api/events'), { cookie: agent.cookieHeader(world.baseUrl) });
  const keysOn = async (port: number) => (await redisCommand(port, 'KEYS', `${world.prefix}*`)) as string[];

  it('when users sign in on one replica, then the other accepts their cookies and their keys spread over several primaries', async () => {
    const agents = await Promise.all(
      (['alice', 'bob', 'carol', 'alice', 'bob', 'carol'] as const).map(async (account) => {
        const agent = new UserAgent();
        await signIn(agent, world, account);
        return { agent, account };
      }),
    );
    for (const { agent, account } of agents) {
      const onB = await agent.fetch(at(B, '/api/user'));
      expect(onB.status).toBe(200);
      expect(await onB.json()).toMatchObject({ user: { id: account } });
    }
    const perPrimary = await Promise.all(cluster.primaries.map((node) => keysOn(node.port)));
    expect(perPrimary.filter((keys) => keys.length > 0).length).toBeGreaterThanOrEqual(2);
    expect(new Set(await services(A).index.byUser(world.op.issuer, 'alice')).size).toBeGreaterThanOrEqual(2);
  });

  it('when the provider logs users out through replica A, then every one of their streams on replica B is told, whichever node owns each channel', async () => {
    const users = ['alice', 'bob', 'carol'] as const;
    const agents = await Promise.all(
      users.map(async (account) => {
        const agent = new UserAgent();
        await signIn(agent, world, account);
        return agent;
      }),
    );
    const streams = await Promise.all(agents.map((agent) => streamFor(agent, B)));
    await Promise.all(streams.map((stream) => stream.next((m) => m.data === 'connected')));

    for (const agent of agents) {
      const providerSid = (await services(A).store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!;
      const token = await world.op.signLogoutToken({ sid: providerSid });
      const posted = await fetch(at(A, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }) });
      expect(posted.status).toBe(200);
    }
    for (const stream of streams) {
      const event = await stream.next((m) => m.event === 'session_invalidated');
      expect(JSON.parse(event.data)).toMatchObject({ reason: 'backchannel_logout' });
      await stream.ended;
    }
    for (const agent of agents) {
      for (const replica of [A, B]) {
        const answer = await agent.fetch(at(replica, '/api/user'));
        expect(answer.status).toBe(401);
        expect(await answer.json()).toMatchObject({ error: 'session_revoked' });
      }
    }
  });

  it('when the provider ends a provider session, then its end is recorded in the slot of that provider session\'s index (so its write runs before the index read sent with it)', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const providerSid = (await services(A).store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!;
    const keys = redisKeys(world.prefix);
    const digest = keyDigest(world.op.issuer, providerSid);
    const endKey = keys.providerSessionEnded(digest);
    const slotOf = (key: string) => redisCommand(cluster.primaries[0]!.port, 'CLUSTER', 'KEYSLOT', key);
    expect(await slotOf(endKey)).toBe(await slotOf(keys.providerSessionIndex(digest)));
    expect(await slotOf(endKey)).not.toBe(await slotOf(keys.providerSessionEnded(keyDigest(world.op.issuer, `${providerSid}-other`))));

    const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'carol' });
    const posted = await fetch(at(B, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }) });
    expect(posted.status).toBe(200);
    expect((await Promise.all(cluster.primaries.map((node) => keysOn(node.port)))).flat()).toContain(endKey);
    expect((await agent.fetch(at(A, '/api/user'))).status).toBe(401);
  });

  it('when an event is published for a user on replica A, then that user\'s streams on both replicas receive it (fan-out)', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    await signIn(laptop, world, 'bob');
    await signIn(phone, world, 'bob');
    const onA = await streamFor(laptop, A);
    const onB = await streamFor(phone, B);
    await Promise.all([onA, onB].map((stream) => stream.next((m) => m.data === 'connected')));
    await services(A).bus.publish(topics.user(world.op.issuer, 'bob'), createEvent('marker'));
    await services(B).bus.publish(topics.broadcast, createEvent('everyone'));
    for (const stream of [onA, onB]) {
      await stream.next((m) => m.event === 'marker');
      await stream.next((m) => m.event === 'everyone');
      stream.close();
    }
  });

  it('when the access token nears expiry and both replicas get a request at once, then the refresh lock lets exactly one refresh', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const sid = sessionIdOf(agent, world.baseUrl);
    const record = (await services(A).store.read(sid))!;
    const tokens = (await services(A).store.readTokens(sid, record.auth!))!;
    record.auth!.tokens.expiresAt = Date.now() + 1000;
    await services(A).store.write(sid, record);
    const refreshed = async () => {
      let total = 0;
      for (const app of world.apps) total += (await app.services.metrics.refreshes.get()).values.find((v) => v.labels.outcome === 'refreshed')?.value ?? 0;
      return total;
    };
    const before = await refreshed();
    const answers = await Promise.all(world.apps.map((app) => agent.fetch(`${app.url}/api/user`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await refreshed()).toBe(before + 1);
    const after = (await services(B).store.read(sid))!.auth!;
    expect((await services(B).store.readTokens(sid, after))!.accessToken).not.toBe(tokens.accessToken);
  });

  it('when a session falls due in the shared liveness schedule and the provider has ended it, then the check revokes it and its stream is told', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const sid = sessionIdOf(agent, world.baseUrl);
    const stream = await streamFor(agent, A);
    await stream.next((m) => m.data === 'connected');
    await world.op.revokeGrants('alice');
    // Only the round run here may claim the session: a replica's own 5 s tick could take it first (or
    // B's tick, already running, would be the round runOnce shares, with nothing due when it looked).
    await Promise.all([A, B].map((replica) => services(replica).liveness.stop()));
    await services(A).schedule.track(sid, Date.now() - 1);
    expect(await services(B).liveness.runOnce()).toBeGreaterThanOrEqual(1);
    const event = await stream.next((m) => m.event === 'session_invalidated');
    expect(JSON.parse(event.data)).toMatchObject({ reason: 'provider_session_ended' });
    expect((await agent.fetch(at(B, '/api/user'))).status).toBe(401);
  });

  it('when the connections of the node holding the subscribers drop, then they reconnect to the next node and a later revocation still reaches streams on both replicas', async () => {
    const agents = await Promise.all(
      (['bob', 'carol'] as const).map(async (account) => {
        const agent = new UserAgent();
        await signIn(agent, world, account);
        return agent;
      }),
    );
    const streams = await Promise.all(agents.map((agent, i) => streamFor(agent, i % 2)));
    await Promise.all(streams.map((stream) => stream.next((m) => m.data === 'connected')));
    const nodes = [...cluster.primaries, ...cluster.replicas];
    const subscribersOn = async (port: number) =>
      String(await redisCommand(port, 'CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((line) => line.includes('name=board-bff:subscriber')).length;
    const before = await Promise.all(nodes.map((node) => subscribersOn(node.port)));
    expect(before.reduce((a, b) => a + b, 0)).toBe(2);
    const holder = nodes[before.findIndex((count) => count > 0)]!;
    await redisCommand(holder.port, 'CLIENT', 'KILL', 'TYPE', 'pubsub');

    // Each subscriber reconnects to the next node it knows and subscribes its channels again.
    await expect
      .poll(async () => (await Promise.all(nodes.map((node) => subscribersOn(node.port)))).reduce((a, b) => a + b, 0), { timeout: 10_000, interval: 100 })
      .toBe(2);
    expect((await Promise.all(nodes.map((node) => subscribersOn(node.port)))).some((count, i) => count > 0 && nodes[i] !== holder)).toBe(true);

    for (const [i, agent] of agents.entries()) {
      const providerSid = (await services(A).store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!;
      const token = await world.op.signLogoutToken({ sid: providerSid });
      const posted = await fetch(at(i % 2, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }) });
      expect(posted.status).toBe(200);
    }
    for (const stream of streams) {
      const event = await stream.next((m) => m.event === 'session_invalidated');
      expect(JSON.parse(event.data)).toMatchObject({ reason: 'backchannel_logout' });
    }
  });

  it('when a primary dies, then its replica takes over, requests answer 503 meanwhile (never 401), and revocations afterwards reach streams on both replicas', async () => {
    const agents = await Promise.all(
      (['alice', 'bob', 'carol'] as const).map(async (account) => {
        const agent = new UserAgent();
        await signIn(agent, world, account);
        return agent;
      }),
    );
    const streams = await Promise.all(agents.map((agent, i) => streamFor(agent, i % 2)));
    await Promise.all(streams.map((stream) => stream.next((m) => m.data === 'connected')));
    const providerSids = await Promise.all(agents.map(async (agent) => (await services(A).store.read(sessionIdOf(agent, world.baseUrl)))!.auth!.providerSid!));
    const victim = cluster.primaries[0]!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');

    // Every session answers 200 again on both replicas; until then 503, never 401.
    const statuses = new Map<number, number>();
    let recoveredAt: number | undefined;
    while (Date.now() - killedAt < 45_000) {
      const answers = await Promise.all(agents.flatMap((agent) => [A, B].map(async (replica) => (await agent.fetch(at(replica, '/api/user'))).status)));
      for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (answers.every((status) => status === 200)) {
        recoveredAt = Date.now();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`Cluster primary failover: ${JSON.stringify({ recoveredAfterMs: recoveredAt && recoveredAt - killedAt, answers: Object.fromEntries(statuses) })}`);
    expect(recoveredAt).toBeDefined();
    expect([...statuses.keys()].every((status) => status === 200 || status === 503)).toBe(true);

    // Keys on the shard that failed over may still meet a stale slot map for a moment: 503, which the
    // provider may retry (bounded here).
    for (const [i, providerSid] of providerSids.entries()) {
      const token = await world.op.signLogoutToken({ sid: providerSid });
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
        status = (await fetch(at(i % 2, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }) })).status;
        expect([200, 503]).toContain(status);
      }
      expect(status).toBe(200);
    }
    for (const stream of streams) {
      const event = await stream.next((m) => m.event === 'session_invalidated', 10_000);
      expect(JSON.parse(event.data)).toMatchObject({ reason: 'backchannel_logout' });
    }
  }, 90_000);

  it('when a primary dies while nobody makes a request, then once its replica has taken over, requests answer 200 without waiting for an error to re-read the slots', async () => {
    // One user whose session record lives on a primary that still has a replica (the previous test's
    // victim left a promoted replica without one).
    const withReplica = cluster.primaries.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    let agent: UserAgent | undefined;
    let victim: (typeof withReplica)[number] | undefined;
    for (let i = 0; i < 6 && !victim; i++) {
      agent = new UserAgent();
      await signIn(agent, world, 'carol');
      const record = redisKeys(world.prefix).session(sessionIdOf(agent, world.baseUrl));
      for (const node of withReplica) if ((await keysOn(node.port)).includes(record)) victim = node;
    }
    expect(victim).toBeDefined();
    expect((await agent!.fetch(at(A, '/api/user'))).status).toBe(200);
    expect((await agent!.fetch(at(B, '/api/user'))).status).toBe(200);

    victim!.child.kill('SIGKILL');
    // No request until the cluster has promoted the victim's replica: the replicas' slot maps still
    // name the dead primary, and no command error of theirs has made them read the slots again.
    const roles = await Promise.all(cluster.replicas.map(async (node) => ({ node, role: (await redisCommand(node.port, 'ROLE')) as [string, string, number] })));
    const replicaOfVictim = roles.find(({ role }) => role[0] === 'slave' && Number(role[2]) === victim!.port)?.node;
    expect(replicaOfVictim).toBeDefined();
    await expect
      .poll(async () => ((await redisCommand(replicaOfVictim!.port, 'ROLE')) as [string])[0], { timeout: 30_000, interval: 250 })
      .toBe('master');
    await expect.poll(async () => String(await redisCommand(replicaOfVictim!.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), { timeout: 30_000, interval: 250 }).toBe(true);

    // The slot map is read again on a timer (2 s): the session answers 200 on both replicas soon after, never 401.
    const statuses: number[] = [];
    await expect
      .poll(
        async () => {
          const answers = await Promise.all([A, B].map(async (replica) => (await agent!.fetch(at(replica, '/api/user'))).status));
          statuses.push(...answers);
          return answers;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual([200, 200]);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  }, 90_000);

  // Last: it uses up this address's sign-in allowance.
  it('when one address keeps asking for /auth/login on both replicas, then the shared count on the cluster refuses it past the limit (30 a window)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      const answer = await fetch(at(i % 2, '/auth/login'), { redirect: 'manual' });
      statuses.push(answer.status);
      await answer.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 302)).toBe(true);
    // 30 per window in all, sign-ins of the earlier tests included.
    expect(statuses.length).toBeLessThan(30);
    // The primaries now: a replica took over from the one the previous test killed.
    const alive = [...cluster.primaries, ...cluster.replicas].filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    const roles = await Promise.all(alive.map(async (node) => ((await redisCommand(node.port, 'ROLE')) as [string])[0]));
    const counters = await Promise.all(alive.filter((_, i) => roles[i] === 'master').map((node) => redisCommand(node.port, 'KEYS', `${world.prefix}rl:login:*`)));
    expect(counters.flat()).toHaveLength(1);
  });
});
