import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSilentServer, startTcpProxy, viaPort, type TcpProxy } from '../db/tcpProxy.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { createPostgresDatabase, type PostgresDatabase } from '../support/postgresDatabase.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PostgreSQL becomes unreachable: the board answers 503, while sign-in, logout and back-channel
 * logout (Redis and the provider only) keep working. The database is the real server, reached
 * through a loopback TCP proxy the test cuts (connections refused, open ones dropped), or a host
 * that accepts connections and never answers.
 */
describe('PostgreSQL unreachable', () => {
  describe('when the connection to PostgreSQL is cut', () => {
    let database: PostgresDatabase;
    let proxy: TcpProxy;
    let world: World;
    beforeAll(async () => {
      database = await createPostgresDatabase();
      const target = new URL(database.url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      world = await startWorld({
        replicas: 2,
        env: { DATABASE_URL: viaPort(database.url, proxy.port), DATABASE_CONNECT_TIMEOUT_MS: '1000' },
      });
    }, 60_000);
    afterAll(async () => {
      await world?.close();
      await proxy?.close();
      await database?.drop();
    });

    const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
    const writeHeaders = (agent: UserAgent) => ({
      cookie: agent.cookieHeader(world.baseUrl),
      'content-type': 'application/json',
      'x-csrf': '1',
      origin: world.baseUrl,
    });

    it('then the board answers 503 and sign-in, logout and back-channel logout still work; the board is back when PostgreSQL is', async () => {
      const alice = new UserAgent();
      await signIn(alice, world, 'alice');
      const created = await fetch(at(0, '/api/posts'), { method: 'POST', headers: writeHeaders(alice), body: JSON.stringify({ title: 'before', body: 'the outage' }) });
      expect(created.status).toBe(201);

      proxy.cut();
      const board = await Promise.all([
        fetch(at(0, '/api/posts'), { headers: { cookie: alice.cookieHeader(world.baseUrl) } }),
        fetch(at(1, '/api/posts'), { headers: { cookie: alice.cookieHeader(world.baseUrl) } }),
        fetch(at(1, '/api/posts'), { method: 'POST', headers: writeHeaders(alice), body: JSON.stringify({ title: 'during', body: 'the outage' }) }),
      ]);
      const boardBodies = await Promise.all(board.map((r) => r.json() as Promise<{ error?: string }>));

      const signInStarted = Date.now();
      const bob = new UserAgent();
      await signIn(bob, world, 'bob');
      const signInMs = Date.now() - signInStarted;
      const bobUser = await bob.fetch(at(1, '/api/user'));

      const aliceCookie = alice.cookieHeader(world.baseUrl);
      const logout = await alice.fetch(at(1, '/auth/logout'), { headers: { accept: 'application/json' } });
      const aliceAfter = await fetch(at(0, '/api/user'), { headers: { cookie: aliceCookie } });

      const bobRecord = await world.apps[0]!.services.store.read(sessionIdOf(bob, world.baseUrl));
      const token = await world.op.signLogoutToken({ sid: bobRecord!.auth!.providerSid!, sub: 'bob' });
      const backchannel = await fetch(at(0, '/auth/backchannel-logout'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      const bobAfter = await bob.fetch(at(1, '/api/user'));
      const readiness = await fetch(at(0, '/readyz'));
      const readinessBody = (await readiness.json()) as { checks: Record<string, string> };

      proxy.restore();
      const carol = new UserAgent();
      await signIn(carol, world, 'carol');
      let boardBack = 0;
      for (let i = 0; i < 40 && boardBack !== 200; i++) {
        boardBack = (await fetch(at(0, '/api/posts'), { headers: { cookie: carol.cookieHeader(world.baseUrl) } })).status;
        if (boardBack !== 200) await sleep(250);
      }

      console.log(
        `postgres cut: board ${board.map((r) => r.status).join(',')}; sign-in in ${signInMs} ms, /api/user ${bobUser.status}; logout ${logout.status} then ${aliceAfter.status}; back-channel ${backchannel.status} then ${bobAfter.status}; ` +
          `readyz ${readiness.status} (database ${readinessBody.checks.database}); board after restore ${boardBack}`,
      );
      expect(board.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(boardBodies.map((b) => b.error)).toEqual(['temporarily_unavailable', 'temporarily_unavailable', 'temporarily_unavailable']);
      expect(bobUser.status).toBe(200);
      expect(logout.status).toBe(200);
      expect(aliceAfter.status).toBe(401);
      expect(backchannel.status).toBe(200);
      expect(bobAfter.status).toBe(401);
      expect(readiness.status).toBe(503);
      expect(readinessBody.checks.database).toBe('down');
      expect(boardBack).toBe(200);
    }, 60_000);
  });

  describe('when PostgreSQL accepts connections and never answers', () => {
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    let world: World;
    beforeAll(async () => {
      silent = await startSilentServer();
      world = await startWorld({
        replicas: 1,
        awaitSchema: false,
        env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/board`, DATABASE_CONNECT_TIMEOUT_MS: '1000' },
      });
    }, 60_000);
    afterAll(async () => {
      await world?.close();
      await silent?.close();
    });

    it('then the board answers 503 and sign-in and logout still work', async () => {
      const at = (path: string) => `${world.apps[0]!.url}${path}`;
      const alice = new UserAgent();
      const started = Date.now();
      await signIn(alice, world, 'alice');
      const signInMs = Date.now() - started;
      const user = await alice.fetch(at('/api/user'));
      const posts = await alice.fetch(at('/api/posts'));
      const cookie = alice.cookieHeader(world.baseUrl);
      const logout = await alice.fetch(at('/auth/logout'), { headers: { accept: 'application/json' } });
      const after = await fetch(at('/api/user'), { headers: { cookie } });
      console.log(`postgres silent: sign-in in ${signInMs} ms, /api/user ${user.status}, board ${posts.status}, logout ${logout.status} then ${after.status}`);
      expect(user.status).toBe(200);
      expect(posts.status).toBe(503);
      expect(logout.status).toBe(200);
      expect(after.status).toBe(401);
    }, 60_000);
  });
});
