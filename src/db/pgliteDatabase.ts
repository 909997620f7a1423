import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';
import type { Database, Queryable, QueryResult } from './database.js';
import { translateDatabaseError } from './databaseErrors.js';
import { lockDataDir, prepareDataDir } from './pgliteDataDir.js';

type PgliteRunner = Pick<PGlite | Transaction, 'query' | 'exec'>;

/**
 * Embedded PostgreSQL (PGlite, WASM) for the one-machine demo and tests: the same SQL as production,
 * one connection, in memory or in `dataDir`. Only one process may open a given `dataDir`.
 */
export async function createPgliteDatabase(options: { dataDir: string | undefined; snapshotDir?: string }, log: Logger): Promise<Database> {
  const started = Date.now();
  // PGlite's WASM PostgreSQL stays on V8's baseline compiler (Liftoff) instead of also being
  // recompiled by the optimising one: ~70 MiB less once started, fast enough for a one-machine
  // board (README "Performance", demo). Set here, when the embedded database starts, rather than as
  // a node flag: V8 accepts the build's code cache only under the flags that made it (src/start/codeCache.ts).
  // Only WebAssembly compiled from now on is affected; the server's JavaScript is not.
  setFlagsFromString('--liftoff-only');
  const snapshotFile = await snapshotPath(options.snapshotDir ?? SNAPSHOT_DIR);
  const opened = options.dataDir === undefined ? await openInMemory(snapshotFile, log) : await openDirectory(resolve(options.dataDir), snapshotFile);
  const { pglite } = opened;
  log.info(
    { storage: options.dataDir ?? 'memory', from: opened.from, startMs: Date.now() - started },
    'database: embedded PGlite (one replica only; set DATABASE_URL for PostgreSQL)',
  );

  const wrap = (runner: PgliteRunner): Queryable => ({
    async query<T extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      try {
        const result = await runner.query<T>(sql, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
    async exec(script: string): Promise<void> {
      try {
        await runner.exec(script);
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
  });

  const root = wrap(pglite);
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    async transaction(fn) {
      try {
        // PGlite serialises everything on its single connection, so other callers wait for the commit.
        return await pglite.transaction((tx) => fn(wrap(tx)));
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
    async ping() {
      await root.query('SELECT 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
      await opened.release?.();
    },
  };
}

/** An open PGlite, what it started from, and (for a data directory) the lock to release once closed. */
interface Opened {
  pglite: PGlite;
  from: 'snapshot' | 'initdb' | 'directory' | 'new directory';
  release?: () => Promise<void>;
}

/**
 * The data directory's files stay on disk (PGlite's NodeFS) instead of in this process's memory:
 * BFF RSS after the first board use 297 → ~140 MiB, and a later start resumes the cluster (no
 * snapshot to unpack, migrations already applied) in ~0.3 s (README "Performance", the demo).
 */
async function openDirectory(dir: string, snapshotFile: string): Promise<Opened> {
  const release = await lockDataDir(dir);
  try {
    const created = await prepareDataDir(dir, { pgliteModule: import.meta.resolve('@electric-sql/pglite'), snapshotFile });
    const pglite = await open({ dataDir: dir, loadDataDir: undefined }).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(
        `the PGlite data directory ${dir} did not open (${message}): if it is damaged or from another PGlite version, move it away or delete it (its data is lost) and a new one is made`,
      );
    });
    return { pglite, from: created ? 'new directory' : 'directory', release };
  } catch (err) {
    await release();
    throw err;
  }
}

async function openInMemory(snapshotFile: string, log: Logger): Promise<Opened> {
  const snapshot = await readFile(snapshotFile).then(
    (bytes) => new Blob([bytes]),
    () => undefined,
  );
  if (snapshot) {
    try {
      return { pglite: await open({ dataDir: undefined, loadDataDir: snapshot }), from: 'snapshot' };
    } catch {
      // A snapshot that does not load (truncated, another build): initialise afresh and replace it.
    }
  }
  const pglite = await open({ dataDir: undefined, loadDataDir: undefined }).catch((e: unknown) => Promise.reject(translateDatabaseError(e)));
  await saveSnapshot(pglite, snapshotFile, log);
  return { pglite, from: 'initdb' };
}

// In-memory PGlite runs initdb at every start: most of its start-up CPU and, at its peak, ~300 MiB
// more memory. A tarball of a freshly initialised (empty, unmigrated) cluster, made at the first
// start and kept beside the dependencies, is loaded instead on later starts: start-up CPU ÷ 3, peak
// memory 710 → 405 MiB (test/bench/pgliteStart.ts). A new data directory is made from it too. The
// file name carries PGlite's version. Found from PGlite's own location
// (node_modules/@electric-sql/pglite/dist/), not this module's: the source, tsc's output and the
// bundle in dist/ each sit at another depth.
// fileURLToPath, not `.pathname`: a checkout under a path with spaces or non-ASCII letters is percent-encoded there.
const SNAPSHOT_DIR = fileURLToPath(new URL('../../../.cache/board-bff/', import.meta.resolve('@electric-sql/pglite')));
// PostgreSQL's defaults size shared memory for a server (128 MB of buffers, 100 connections); a
// demo's board needs far less, and PGlite touches all of its shared memory at start (WASM memory,
// once touched, is never returned). shared_memory_size 24 → 4 MB with 1 MB of buffers and 4
// connections (PGlite runs one backend; 4 is the least PostgreSQL accepts beside its 3 reserved
// slots): idle RSS −20 MiB. With a data directory the kernel's page cache holds the files, so few
// buffers cost little (README "Performance", the demo).
const SMALL_MEMORY = ['shared_buffers=1MB', 'max_connections=4', 'work_mem=1MB', 'maintenance_work_mem=8MB', 'temp_buffers=1MB'];

async function open(options: { dataDir: string | undefined; loadDataDir: Blob | undefined }): Promise<PGlite> {
  const settings: PGliteOptions = { postgresqlconf: SMALL_MEMORY };
  if (options.dataDir !== undefined) settings.dataDir = options.dataDir;
  if (options.loadDataDir) settings.loadDataDir = options.loadDataDir;
  const pglite = new PGlite(settings);
  await pglite.waitReady;
  return pglite;
}

async function snapshotPath(dir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8')) as { version: string };
  return `${dir}pglite-${manifest.version}-initdb.tar.gz`;
}

/** Best effort: a read-only install simply starts without a snapshot next time too. */
async function saveSnapshot(pglite: PGlite, file: string, log: Logger): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('gzip');
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } catch (err) {
    log.debug({ err: { message: (err as Error).message } }, 'PGlite start-up snapshot not saved');
  }
}
