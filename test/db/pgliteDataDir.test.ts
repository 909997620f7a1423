import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../src/db/pgliteDatabase.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'silent' });

describe('PGlite in a data directory (PGLITE_DIR, the demo)', () => {
  const roots: string[] = [];
  const scratch = async () => {
    const root = await mkdtemp(join(tmpdir(), 'board-bff-pglite-dir-'));
    roots.push(root);
    return root;
  };
  afterAll(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('when the directory does not exist, then it is made, and what was written is there at the next start', async () => {
    const dir = join(await scratch(), 'data', 'pglite');
    const first = await createPgliteDatabase({ dataDir: dir }, log);
    await first.exec('CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');
    await first.close();
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(`${dir}.partial`)).toBe(false);
    expect(existsSync(`${dir}.lock`)).toBe(false);

    const second = await createPgliteDatabase({ dataDir: dir }, log);
    expect((await second.query<{ id: number }>('SELECT id FROM kept')).rows).toEqual([{ id: 7 }]);
    expect((await second.query('SHOW shared_buffers')).rows[0]).toEqual({ shared_buffers: '1MB' });
    await second.close();
  }, 120_000);

  it('when the directory is open already, then a second open is refused naming the process, and it opens once the first is closed', async () => {
    const dir = join(await scratch(), 'pglite');
    const first = await createPgliteDatabase({ dataDir: dir }, log);
    await expect(createPgliteDatabase({ dataDir: dir }, log)).rejects.toThrow(`PGLITE_DIR ${dir} is in use by process ${process.pid}`);
    await first.close();
    const second = await createPgliteDatabase({ dataDir: dir }, log);
    expect((await second.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await second.close();
  }, 120_000);

  it('when the lock was left by a process that has ended (or by an earlier process with this pid), then it is taken over', async () => {
    const dir = join(await scratch(), 'pglite');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    await writeFile(`${dir}.lock`, gone);
    const db = await createPgliteDatabase({ dataDir: dir }, log);
    expect(await readFile(`${dir}.lock`, 'utf8')).toBe(String(process.pid));
    await db.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);

    // A container's process has the same pid at every start: a lock naming it, not taken by it, is stale.
    await writeFile(`${dir}.lock`, String(process.pid));
    const again = await createPgliteDatabase({ dataDir: dir }, log);
    await again.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 120_000);

  it('when the directory holds other files, or is a file, then it is refused and left as it was', async () => {
    const dir = join(await scratch(), 'not-a-cluster');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(createPgliteDatabase({ dataDir: dir }, log)).rejects.toThrow(`PGLITE_DIR ${dir} holds files but no database`);
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(existsSync(`${dir}.lock`)).toBe(false);

    const file = join(dir, 'notes.txt');
    await expect(createPgliteDatabase({ dataDir: file }, log)).rejects.toThrow(`PGLITE_DIR ${file} cannot be read as a directory (ENOTDIR)`);
    expect(await readFile(file, 'utf8')).toBe('mine');
  });

  it('when the directory is damaged, then the error says so and how to start afresh, and the directory is left as it was', async () => {
    const dir = join(await scratch(), 'pglite');
    await (await createPgliteDatabase({ dataDir: dir }, log)).close();
    await writeFile(join(dir, 'PG_VERSION'), '9\n'); // as a cluster of another PostgreSQL would read
    await expect(createPgliteDatabase({ dataDir: dir }, log)).rejects.toThrow(
      new RegExp(`the PGlite data directory ${dir} did not open .*move it away or delete it`),
    );
    expect(await readFile(join(dir, 'PG_VERSION'), 'utf8')).toBe('9\n');
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 120_000);
});
