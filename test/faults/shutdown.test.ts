import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessWorld, type ProcessWorld } from '../support/processWorld.js';
import { openRawStream, startSlowRequest } from '../support/rawHttp.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';

const ACCOUNTS = ['alice', 'bob', 'carol', 'alice', 'bob', 'carol'] as const;
const SLOW_POSTS = 5;

describe('SIGTERM on a replica (separate processes, shared Redis and PostgreSQL)', () => {
  let world: ProcessWorld;
  beforeAll(async () => {
    world = await startProcessWorld({
      replicas: 2,
      env: { SHUTDOWN_DELAY_SECONDS: '1', SHUTDOWN_GRACE_SECONDS: '10', SSE_RETRY_MS: '2000' },
    });
  }, 120_000);
  afterAll(() => world?.close());

  it('when it stops with slow POSTs and streams in flight, then the POSTs get 201, streams end with a retry hint and closed connections, nobody is signed out, and it exits 0 with "stopped"', async () => {
    const [a, b] = world.replicas as [(typeof world.replicas)[0], (typeof world.replicas)[0]];
    const users = ACCOUNTS.map(() => new UserAgent());
    for (const [i, user] of users.entries()) await signIn(user, world, ACCOUNTS[i]);
    const streams = await Promise.all(users.map((user) => openRawStream(`${b.url}/api/events`, user.cookieHeader(b.url))));
    for (const stream of streams) expect(stream.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const posts = users.slice(0, SLOW_POSTS).map((user, i) =>
      startSlowRequest(`${b.url}/api/posts`, {
        method: 'POST',
        headers: { cookie: user.cookieHeader(b.url), 'content-type': 'application/json', 'x-csrf': '1', origin: world.baseUrl },
        body: JSON.stringify({ title: `in flight ${i}`, body: 'sent slowly across a SIGTERM' }),
      }),
    );
    // The requests have passed the session check and wait for the rest of their bodies.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const signalledAt = Date.now();
    const exited = new Promise<number | null>((resolve) => b.child.once('exit', (code) => resolve(code)));
    b.child.kill('SIGTERM');

    // During SHUTDOWN_DELAY_SECONDS the replica still serves, but reads as not ready.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const readiness = await fetch(`${b.url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ checks: { accepting: 'down' } });

    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const post of posts) post.send();
    const answers = await Promise.all(posts.map((post) => post.response));
    const exitCode = await exited;
    const stoppedAfterMs = Date.now() - signalledAt;
    const streamEnds = await Promise.all(streams.map((stream) => stream.ended));
    const socketCloses = await Promise.all(streams.map((stream) => stream.socketClosed));

    const log = readFileSync(b.logFile, 'utf8');
    console.log(
      `shutdown: ${answers.filter((r) => r.status === 201).length}/${SLOW_POSTS} slow POSTs 201, ` +
        `${streams.filter((s) => /retry: \d+\n\n$/.test(s.text())).length}/${streams.length} streams ended with a retry hint, ` +
        `exit ${exitCode} after ${stoppedAfterMs} ms`,
    );
    expect(answers.map((r) => r.status)).toEqual(Array(SLOW_POSTS).fill(201));
    // In-flight requests are told not to reuse the connection of a process that is going away.
    for (const answer of answers) expect(answer.headers.connection).toBe('close');
    for (const stream of streams) expect(stream.text()).toMatch(/\nretry: \d+\n\n$/);
    // Streams end after the in-flight requests, and their connections close (no reconnect to this process).
    expect(Math.min(...streamEnds)).toBeGreaterThanOrEqual(Math.max(...answers.map((r) => r.at)) - 50);
    expect(socketCloses).toHaveLength(streams.length);
    expect(exitCode).toBe(0);
    expect(stoppedAfterMs).toBeLessThan(10_000);
    expect(log).toMatch(/"msg":"stopped"/);

    // The streams' owners are still signed in on the surviving replica.
    const statuses = await Promise.all(users.map(async (user) => (await user.fetch(`${a.url}/api/user`)).status));
    console.log(`shutdown: ${statuses.filter((s) => s === 200).length}/${users.length} stream owners still signed in on replica A`);
    expect(statuses).toEqual(Array(users.length).fill(200));
    for (const stream of streams) stream.close();
  }, 60_000);
});
