import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../src/db/pgliteDatabase.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'silent' });

describe('in-memory PGlite start-up snapshot', () => {
  const dirs: string[] = [];
  const snapshotDir = async () => {
    const dir = `${await mkdtemp(join(tmpdir(), 'board-bff-pglite-'))}/`;
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('when it starts without a snapshot, then it saves one, and the next start from it is an empty, working database', async () => {
    const dir = await snapshotDir();
    const first = await createPgliteDatabase({ dataDir: undefined, snapshotDir: dir }, log);
    await first.exec('CREATE TABLE only_in_first (id int)');
    await first.close();
    const files = await readdir(dir);
    expect(files).toEqual([expect.stringMatching(/^pglite-[\d.]+-initdb\.tar\.gz$/)]);

    const second = await createPgliteDatabase({ dataDir: undefined, snapshotDir: dir }, log);
    const tables = await second.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_first'");
    expect(tables.rows[0]!.n).toBe(0);
    expect((await second.query<{ v: string }>('SHOW shared_buffers')).rows[0]).toEqual({ shared_buffers: '1MB' });
    await second.close();
  }, 120_000);

  it('when the snapshot is damaged, then it starts afresh and replaces the snapshot', async () => {
    const dir = await snapshotDir();
    const first = await createPgliteDatabase({ dataDir: undefined, snapshotDir: dir }, log);
    await first.close();
    const [file] = await readdir(dir);
    await writeFile(join(dir, file!), 'not a tarball');
    const db = await createPgliteDatabase({ dataDir: undefined, snapshotDir: dir }, log);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await db.close();
    expect(existsSync(join(dir, file!))).toBe(true);
    expect((await readFile(join(dir, file!))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip again
  }, 120_000);
});
