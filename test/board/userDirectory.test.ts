import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserDirectory } from '../../src/board/userDirectory.js';
import { identityOf } from '../../src/sessions/externalIdentity.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { startSilentServer, startTcpProxy, viaPort, type TcpProxy } from '../db/tcpProxy.js';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { authFor, captureLogger, silentLogger, testIssuer } from './support/boardTestKit.js';

describe('user directory when the database comes and goes', () => {
  let database: ConnectedDatabase;
  let direct: Database;
  let proxy: TcpProxy;
  let flaky: Database;

  beforeAll(async () => {
    database = await connectPostgresDatabase({ poolMax: 2 });
    direct = database.db;
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    flaky = await createDatabase(
      databaseSettings({ url: viaPort(database.url, proxy.port), poolMax: 2, connectTimeoutMs: 1_000 }),
      silentLogger(),
    );
  }, 60_000);

  afterAll(async () => {
    await flaky?.close();
    await proxy?.close();
    await database?.close();
  });

  /** Runs `fn` with the database unreachable, then waits until the pool has replaced its dropped connections. */
  const duringOutage = async (fn: () => Promise<void>) => {
    proxy.cut();
    try {
      await fn();
    } finally {
      proxy.restore();
      await expect.poll(() => flaky.ping().then(() => true, () => false)).toBe(true);
    }
  };

  const userCount = async (sub: string) =>
    Number((await direct.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE issuer = $1 AND subject = $2', [testIssuer, sub])).rows[0]!.n);

  it('when provisioning at login fails because the database is down, then login is not failed and a warning is logged', async () => {
    const { log, lines } = captureLogger();
    const users = createUserDirectory({ db: flaky, log });
    await duringOutage(async () => {
      await expect(users.provisionUser(identityOf(authFor('hank')))).resolves.toBeUndefined();
    });

    expect(lines().some((line) => line.level === 'warn' && String(line.msg).startsWith('user provisioning failed'))).toBe(true);
    expect(await userCount('hank')).toBe(0);
  });

  it('when the database is back, then the first board request provisions the user on demand', async () => {
    const users = createUserDirectory({ db: flaky, log: silentLogger() });

    const id = await users.userIdFor(authFor('hank', { name: 'Hank' }));

    expect(id).toBeGreaterThan(0);
    expect(await userCount('hank')).toBe(1);
  });

  it('when the database is down and the id is unknown, then userIdFor rejects with 503', async () => {
    const users = createUserDirectory({ db: flaky, log: silentLogger() });
    await duringOutage(async () => {
      await expect(users.userIdFor(authFor('ivy'))).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable' });
    });
  });

  it('when the id was already resolved in this process, then it is served from memory even while the database is down', async () => {
    const users = createUserDirectory({ db: flaky, log: silentLogger() });
    const id = await users.userIdFor(authFor('jack'));
    await duringOutage(async () => {
      await expect(users.userIdFor(authFor('jack'))).resolves.toBe(id);
    });
  });

  it('when the cache is full, then the least recently used identity is looked up again', async () => {
    const users = createUserDirectory({ db: flaky, log: silentLogger(), cacheSize: 1 });
    await users.userIdFor(authFor('kim'));
    await users.userIdFor(authFor('lou')); // evicts kim
    await duringOutage(async () => {
      await expect(users.userIdFor(authFor('lou'))).resolves.toBeGreaterThan(0);
      await expect(users.userIdFor(authFor('kim'))).rejects.toMatchObject({ status: 503 });
    });
  });

  it('when the database hangs instead of refusing, then provisioning at login returns within its wait bound', async () => {
    const silent = await startSilentServer();
    const { log, lines } = captureLogger();
    const hanging = await createDatabase(
      databaseSettings({ url: `postgres://postgres@127.0.0.1:${silent.port}/test`, poolMax: 1, connectTimeoutMs: 1_500 }),
      silentLogger(),
    );
    try {
      const started = Date.now();
      await createUserDirectory({ db: hanging, log, provisionWaitMs: 200 }).provisionUser(identityOf(authFor('max')));

      expect(Date.now() - started).toBeLessThan(1_000);
      // The upsert goes on in the background and its failure is still reported once the pool gives up.
      await expect.poll(() => lines().some((line) => line.level === 'warn'), { timeout: 5_000 }).toBe(true);
    } finally {
      await hanging.close();
      await silent.close();
    }
  });
});
