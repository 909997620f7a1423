import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Takes `<dir>.lock` for this process and returns its release. Two processes writing one PGlite data
 * directory corrupt it, and PGlite cannot tell: its PostgreSQL runs single-user inside this process,
 * where `postmaster.pid` sees no other process. A lock whose process is gone (a crash) is taken over.
 * The lock file appears with its content at once (a hard link of a written file), so a reader never
 * sees it empty.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  await mkdir(dirname(file), { recursive: true });
  const mine = `${file}.${process.pid}`;
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, file);
        held.add(file);
        return async () => {
          held.delete(file);
          await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(await readFile(file, 'utf8').catch(() => ''));
        // Our own pid in a lock we do not hold: left by an earlier process that had it (a container's BFF is pid 1 each time).
        const mineButStale = holder === process.pid && !held.has(file);
        if (attempt > 0 || (isAlive(holder) && !mineButStale)) {
          throw new Error(`PGLITE_DIR ${dir} is in use by process ${holder} (${file}); one process at a time: stop it or choose another PGLITE_DIR`);
        }
        await unlink(file).catch(() => undefined);
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** Lock files this process holds. */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes `dir` a PGlite data directory unless it is one already (it holds `PG_VERSION`); returns
 * whether it made it. A directory that holds other files is refused, never written into. The
 * cluster is made in a short-lived process of its own, from the start-up snapshot when there is one
 * (else by initdb): loading it costs a few hundred MiB at its peak that V8 and the allocator would
 * not give back to this long-lived process (README "Performance", the demo). It is made beside
 * `dir` and renamed into place once complete, so an interruption never leaves half a cluster at `dir`.
 */
export async function prepareDataDir(dir: string, options: { pgliteModule: string; snapshotFile: string }): Promise<boolean> {
  if (existsSync(`${dir}/PG_VERSION`)) return false;
  const present = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new Error(`PGLITE_DIR ${dir} cannot be read as a directory (${err.code ?? err.message}); not touched: choose an empty or new directory`);
  });
  if (present.length > 0) throw new Error(`PGLITE_DIR ${dir} holds files but no database (no PG_VERSION); not touched: choose an empty or new directory`);
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--liftoff-only', '--input-type=module', '-e', MAKE_CLUSTER, options.pgliteModule, partial, options.snapshotFile],
      { timeout: 120_000 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const reason = stderr.trim().split('\n').filter(Boolean).at(-1) ?? err.message.split('\n')[0];
        reject(new Error(`could not create the PGlite data directory ${dir}: ${reason}`));
      },
    );
  });
  // Found empty or absent above; rmdir removes nothing else.
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(partial, dir);
  return true;
}

// Run by `node -e` with argv: PGlite's module URL, the directory, the snapshot file. A snapshot that
// does not load (damaged, another build) falls back to initdb.
const MAKE_CLUSTER = `
const [pgliteModule, dir, snapshotFile] = process.argv.slice(1);
const { PGlite } = await import(pgliteModule);
const { readFile, rm } = await import('node:fs/promises');
const snapshot = await readFile(snapshotFile).then((bytes) => new Blob([bytes]), () => undefined);
const make = async (loadDataDir) => {
  const pglite = new PGlite({ dataDir: dir, ...(loadDataDir ? { loadDataDir } : {}) });
  await pglite.waitReady;
  await pglite.close();
};
try {
  await make(snapshot);
} catch (err) {
  if (!snapshot) throw err;
  await rm(dir, { recursive: true, force: true });
  await make(undefined);
}
`;
