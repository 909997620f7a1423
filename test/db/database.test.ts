import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { HttpError } from '../../src/errors.js';
import { captureLogger, silentLogger } from '../board/support/boardTestKit.js';
import { startSilentServer, startTcpProxy, viaPort } from './tcpProxy.js';
import { freePort as closedPort } from '../support/ports.js';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';

const unavailableDatabase = { status: 503, code: 'temporarily_unavailable', message: 'database is unavailable; try again shortly' };

describe('PostgreSQL driver', () => {
  let database: ConnectedDatabase;
  let db: Database;
  const { log, lines } = captureLogger();

  beforeAll(async () => {
    database = await connectPostgresDatabase({ poolMax: 4, migrated: false, log });
    ({ db } = database);
    await db.exec('CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)');
  }, 60_000);

  afterAll(() => database?.close());

  it('when the url is set, then the pg driver is chosen and answers parameterised queries', async () => {
    const { rows } = await db.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [2, 3]);

    expect(db.kind).toBe('postgres');
    expect(rows).toEqual([{ sum: 5 }]);
  });

  it('when a transaction function succeeds, then its writes are committed', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES ($1, $2)', [1, 'kept']);
    });

    expect((await db.query('SELECT text FROM notes WHERE id = 1')).rows).toEqual([{ text: 'kept' }]);
  });

  it('when a transaction function throws, then its writes are rolled back and its error comes out unchanged', async () => {
    const boom = new Error('boom');

    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [2, 'dropped']);
        throw boom;
      }),
    ).rejects.toBe(boom);

    expect((await db.query('SELECT * FROM notes WHERE id = 2')).rowCount).toBe(0);
  });

  it('when the SQL itself is wrong, then the driver error passes through (a bug is not an outage)', async () => {
    const failure = await db.query('SELEC 1').catch((err: unknown) => err);

    expect(failure).not.toBeInstanceOf(HttpError);
    expect(failure).toMatchObject({ code: '42601' });
  });

  it('when a statement outlives the statement timeout, then it fails as 503 unavailable', async () => {
    const slow = await createDatabase(databaseSettings({ url: database.url, poolMax: 1, statementTimeoutMs: 100 }), silentLogger());
    try {
      await expect(slow.query('SELECT pg_sleep(2)')).rejects.toMatchObject(unavailableDatabase);
    } finally {
      await slow.close();
    }
  });

  it('when nothing listens at the database address, then query, transaction and ping fail fast with 503 unavailable', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/test`;
    const dead = await createDatabase(databaseSettings({ url, poolMax: 2 }), silentLogger());
    try {
      const started = Date.now();
      await expect(dead.query('SELECT 1')).rejects.toMatchObject(unavailableDatabase);
      await expect(dead.transaction(async () => 1)).rejects.toMatchObject(unavailableDatabase);
      await expect(dead.ping()).rejects.toMatchObject(unavailableDatabase);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await dead.close();
    }
  });

  it('when the database host accepts connections but never answers, then a query fails as 503 after the connect timeout', async () => {
    const silent = await startSilentServer();
    const hanging = await createDatabase(
      databaseSettings({ url: `postgres://postgres@127.0.0.1:${silent.port}/test`, poolMax: 1, connectTimeoutMs: 300 }),
      silentLogger(),
    );
    try {
      const started = Date.now();
      await expect(hanging.query('SELECT 1')).rejects.toMatchObject(unavailableDatabase);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await hanging.close();
      await silent.close();
    }
  });

  it('when the server ends an idle pooled connection, then the process survives, the failure is logged and the next query reconnects', async () => {
    const mine = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'); // now idle in the pool
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [mine.rows[0]!.pid]);
    } finally {
      await admin.end();
    }

    await expect
      .poll(() => lines().some((line) => line.msg === 'idle database connection failed; the pool will replace it'))
      .toBe(true);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('when the connection drops in the middle of a query, then that query fails as 503 and the pool recovers after', async () => {
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const flaky = await createDatabase(databaseSettings({ url: viaPort(database.url, proxy.port), poolMax: 2 }), silentLogger());
    try {
      const inFlight = flaky.query('SELECT pg_sleep(5)');
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.cut();
      await expect(inFlight).rejects.toMatchObject(unavailableDatabase);
      await expect(flaky.ping()).rejects.toMatchObject(unavailableDatabase);

      proxy.restore();

      await expect(flaky.ping()).resolves.toBeUndefined();
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it('when a connection drops inside a transaction, then the transaction fails as 503 and the broken connection is not reused', async () => {
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const flaky = await createDatabase(databaseSettings({ url: viaPort(database.url, proxy.port), poolMax: 1 }), silentLogger());
    try {
      const failed = flaky.transaction(async (tx) => {
        await tx.query('SELECT 1');
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await tx.query('SELECT 2');
      });
      await expect(failed).rejects.toMatchObject(unavailableDatabase);

      proxy.restore();

      // poolMax 1: this works only if the broken client was destroyed rather than returned to the pool.
      await expect(flaky.transaction((tx) => tx.query('SELECT 3'))).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it('when the pool has been closed, then queries fail as 503 rather than crash', async () => {
    const closing = await createDatabase(databaseSettings({ url: database.url, poolMax: 1 }), silentLogger());
    await closing.close();

    await expect(closing.query('SELECT 1')).rejects.toMatchObject(unavailableDatabase);
  });
});
