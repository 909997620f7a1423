import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failover, redisCommand, startRedisSentinelSet, type RedisSentinelSet } from '../support/redisTopology.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse, type SseStream } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** Bounds of the load: it stops at whichever comes first. */
const MAX_REQUESTS = 4000;
const MAX_LOAD_MS = 40_000;
const WORKERS = 4;

interface Probe {
  agent: UserAgent;
  name: string;
  stream: SseStream;
  /** Set when the back-channel POST that names this session answered 200 (epoch ms). */
  revokedAt?: number;
  /** Set when that POST was sent. */
  revokingSince?: number;
}

describe('two replicas on Redis Sentinel (1 primary, 1 replica, 3 sentinels, started by this test)', () => {
  let set: RedisSentinelSet;
  let world: World;
  beforeAll(async () => {
    set = await startRedisSentinelSet();
    world = await startWorld({
      replicas: 2,
      redisEnv: { REDIS_SENTINELS: set.seeds, REDIS_SENTINEL_NAME: set.name },
      env: { REDIS_COMMAND_TIMEOUT_MS: '1000', SSE_HEARTBEAT_SECONDS: '2' },
    });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await set?.stop();
  });

  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;

  /** Posts a logout token naming the probe's provider session until the answer is not 503 (bounded). */
  const backchannelLogout = async (probe: Probe, replica: number) => {
    const providerSid = (await world.apps[0]!.services.store.read(sessionIdOf(probe.agent, world.baseUrl)))!.auth!.providerSid!;
    probe.revokingSince = Date.now();
    for (let attempt = 0; attempt < 200; attempt++) {
      const token = await world.op.signLogoutToken({ sid: providerSid });
      const answer = await fetch(at(replica, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }) }).catch(
        () => undefined,
      );
      if (answer?.status === 200) {
        probe.revokedAt = Date.now();
        return attempt;
      }
      if (answer && answer.status !== 503) throw new Error(`back-channel answered ${answer.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the back-channel logout never succeeded');
  };

  it('when the primary fails over under load, then no answer is wrong, no session is lost, and a later back-channel logout reaches the streams', async () => {
    // Arrange: nine sessions, each with a stream (on alternating replicas).
    const probes: Probe[] = [];
    for (const [i, account] of (['alice', 'bob', 'carol', 'alice', 'bob', 'carol', 'alice', 'bob', 'carol'] as const).entries()) {
      const agent = new UserAgent();
      await signIn(agent, world, account);
      const stream = await openSse(at(i % 2, '/api/events'), { cookie: agent.cookieHeader(world.baseUrl) });
      await stream.next((m) => m.data === 'connected');
      probes.push({ agent, name: `${account}#${i}`, stream });
    }
    const duringSwitch = probes.slice(0, 2);
    const afterSwitch = probes.slice(2, 5);
    const live = probes.slice(5);

    // Load: authenticated requests round-robin over sessions and replicas until told to stop.
    const results: Array<{ start: number; end: number; status: number; wrong: boolean }> = [];
    const failures: string[] = [];
    let stop = false;
    let next = 0;
    const loadStarted = Date.now();
    const worker = async () => {
      while (!stop && results.length < MAX_REQUESTS && Date.now() - loadStarted < MAX_LOAD_MS) {
        const n = next++;
        const probe = probes[n % probes.length]!;
        const start = Date.now();
        const revoked = probe.revokedAt !== undefined && probe.revokedAt <= start;
        const undecided = probe.revokingSince !== undefined && !revoked;
        const status = await probe.agent
          .fetch(at(n % 2, '/api/user'), { signal: AbortSignal.timeout(10_000) })
          .then((answer) => answer.status)
          .catch((err: Error) => {
            failures.push(`${err.message}: ${String((err.cause as Error | undefined)?.message ?? '')}`);
            return 0;
          });
        // 503 is always a right answer; 200 is wrong for a revoked session, 401 for a live one.
        const wrong = status !== 503 && !undecided && (revoked ? status !== 401 : status !== 200);
        results.push({ start, end: Date.now(), status, wrong });
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // Act: fail over; while the sentinels switch, the provider logs two sessions out.
    const failoverAt = Date.now();
    const switched = failover(set);
    const revocationsDuring = duringSwitch.map((probe, i) => backchannelLogout(probe, i % 2));
    const { newPrimary } = await switched;
    const switchedAt = Date.now();
    await Promise.all(revocationsDuring);

    // Recovered: the first moment after which requests of live sessions all answer 200 for 2 s.
    const deadline = Date.now() + 20_000;
    let recoveredAt: number | undefined;
    while (Date.now() < deadline) {
      const lastFailure = results.filter((r) => r.start >= failoverAt && r.status !== 200 && r.status !== 401).at(-1);
      const since = lastFailure ? lastFailure.end : failoverAt;
      if (Date.now() - since > 2000 && results.some((r) => r.start > since && r.status === 200)) {
        recoveredAt = since;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Then the provider logs three more sessions out, through either replica.
    const afterAttempts = await Promise.all(afterSwitch.map((probe, i) => backchannelLogout(probe, i % 2)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await load;

    const toldWithin = async (probe: Probe) =>
      probe.stream
        .next((m) => m.event === 'session_invalidated', 8000)
        .then(() => true)
        .catch(() => false);
    const toldDuring = (await Promise.all(duringSwitch.map(toldWithin))).filter(Boolean).length;
    const toldAfter = (await Promise.all(afterSwitch.map(toldWithin))).filter(Boolean).length;
    const liveStreamsOpen = live.filter((probe) => !probe.stream.messages.some((m) => m.event === 'session_invalidated')).length;

    // Both replicas' subscriber connections followed the switch: they sit on the new primary now.
    const subscribersOn = async (port: number) =>
      String(await redisCommand(port, 'CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((line) => line.includes('name=board-bff:subscriber')).length;
    const subscribersOnNewPrimary = await subscribersOn(newPrimary);
    const subscribersOnOldPrimary = await subscribersOn(set.primary.port);

    let lost = 0;
    for (const probe of live) {
      for (const replica of [0, 1]) if ((await probe.agent.fetch(at(replica, '/api/user'))).status !== 200) lost++;
    }
    let revokedAnswering = 0;
    for (const probe of [...duringSwitch, ...afterSwitch]) {
      for (const replica of [0, 1]) if ((await probe.agent.fetch(at(replica, '/api/user'))).status !== 401) revokedAnswering++;
    }

    const during = results.filter((r) => r.start >= failoverAt && r.start <= (recoveredAt ?? switchedAt));
    const figures = {
      requests: results.length,
      requestsDuringFailover: during.length,
      answeredDuringFailover: Object.fromEntries([...new Set(during.map((r) => r.status))].map((s) => [s, during.filter((r) => r.status === s).length])),
      wrongAnswers: results.filter((r) => r.wrong).length,
      sessionsLost: lost,
      revokedSessionsStillAccepted: revokedAnswering,
      sentinelsSwitchedMs: switchedAt - failoverAt,
      timeToRecoverMs: recoveredAt === undefined ? 'not recovered within 20 s' : recoveredAt - failoverAt,
      backchannelRetriesAfterSwitch: afterAttempts.reduce((a, b) => a + b, 0),
      streamsToldRevokedDuringSwitch: `${toldDuring}/${duringSwitch.length}`,
      streamsToldRevokedAfterSwitch: `${toldAfter}/${afterSwitch.length}`,
      liveStreamsStillOpen: `${liveStreamsOpen}/${live.length}`,
      newPrimaryPort: newPrimary,
      subscribersOnNewPrimary,
      subscribersOnOldPrimary,
      requestsWithoutAnswer: [...new Set(failures)],
    };
    console.log(`Sentinel failover figures: ${JSON.stringify(figures, null, 2)}`);

    expect(newPrimary).toBe(set.replica.port);
    expect(subscribersOnNewPrimary).toBe(2);
    expect(subscribersOnOldPrimary).toBe(0);
    expect(figures.wrongAnswers).toBe(0);
    expect(lost).toBe(0);
    expect(revokedAnswering).toBe(0);
    expect(recoveredAt).toBeDefined();
    expect(toldAfter).toBe(afterSwitch.length);
    expect(toldDuring).toBe(duringSwitch.length);
    expect(liveStreamsOpen).toBe(live.length);
    for (const probe of probes) probe.stream.close();
  }, 120_000);
});
