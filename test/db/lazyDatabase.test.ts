import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createLazyDatabase } from '../../src/db/lazyDatabase.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'silent' });

/** A stand-in database that answers every query with one row and records whether it was closed. */
function fakeDatabase(): Database & { closed: boolean } {
  const db = {
    kind: 'pglite' as const,
    closed: false,
    query: async <T,>() => ({ rows: [{ one: 1 }] as T[], rowCount: 1 }),
    exec: async () => undefined,
    transaction: async <T,>(fn: (tx: Database) => Promise<T>) => fn(db as unknown as Database),
    ping: async () => undefined,
    close: async () => {
      db.closed = true;
    },
  };
  return db as Database & { closed: boolean };
}

const options = { kind: 'pglite' as const, waitMs: 10_000, retryAfterMs: 10_000, log };

describe('a database started on first use', () => {
  it('when nothing uses it, then it never opens; the first query opens it once and concurrent ones share that start', async () => {
    let opens = 0;
    const db = createLazyDatabase(async () => {
      opens += 1;
      return fakeDatabase();
    }, options);
    await expect(db.ping()).rejects.toMatchObject({ status: 503 });
    expect(db.state()).toBe('standby');
    expect(opens).toBe(0);
    const [a, b] = await Promise.all([db.query('SELECT 1'), db.query('SELECT 1')]);
    expect(a.rows).toEqual([{ one: 1 }]);
    expect(b.rows).toEqual([{ one: 1 }]);
    expect(opens).toBe(1);
    expect(db.state()).toBe('up');
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('when the start takes longer than the wait, then the query is refused 503 and the start goes on', async () => {
    let finish!: (db: Database) => void;
    const db = createLazyDatabase(() => new Promise<Database>((resolve) => (finish = resolve)), { ...options, waitMs: 50 });
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable', headers: { 'Retry-After': expect.any(String) } });
    expect(db.state()).toBe('starting');
    finish(fakeDatabase());
    await expect(db.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
  });

  it('when the start fails, then uses are refused 503 until retryAfterMs has passed, and the next use starts it again', async () => {
    let attempts = 0;
    const db = createLazyDatabase(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('no memory');
      return fakeDatabase();
    }, { ...options, retryAfterMs: 100 });
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ status: 503 });
    expect(db.state()).toBe('failed');
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ status: 503 });
    expect(attempts).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await expect(db.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
    expect(attempts).toBe(2);
  });

  it('when it is closed during its start, then close does not wait, and what the start opens is closed', async () => {
    let finish!: (db: Database) => void;
    const db = createLazyDatabase(() => new Promise<Database>((resolve) => (finish = resolve)), options);
    db.warm();
    expect(db.state()).toBe('starting');
    await db.close();
    const opened = fakeDatabase();
    finish(opened);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.closed).toBe(true);
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ status: 503 });
  });
});
