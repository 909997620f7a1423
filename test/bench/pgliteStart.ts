/**
 * A/B for the embedded database's start (src/db/pgliteDatabase.ts): PGlite as it starts by default
 * (initdb in memory, PostgreSQL's default memory settings) against the app's ways: in memory (a
 * snapshot of an initialised cluster, smaller memory settings) and in a data directory (PGLITE_DIR,
 * what `npm run demo` uses; made by a first start before the rounds, then resumed). Each start is a
 * process of its own; rounds alternate. Prints medians of: time to ready, CPU time, idle RSS after
 * GC, peak RSS.
 *
 *   npx tsx test/bench/pgliteStart.ts [rounds=3]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase } from '../../src/db/pgliteDatabase.js';
import { createLogger } from '../../src/logger.js';
import { median } from './stats.js';

const mode = process.argv[2];
if (mode === 'default' || mode === 'app' || mode === 'directory') {
  const started = performance.now();
  const db = mode === 'default' ? new PGlite() : await createPgliteDatabase({ dataDir: process.argv[3] }, createLogger({ level: 'silent' }));
  if (db instanceof PGlite) await db.waitReady;
  await (db as { query(sql: string): Promise<unknown> }).query('SELECT 1');
  const readyMs = performance.now() - started;
  const cpu = process.cpuUsage();
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  console.log(JSON.stringify({ readyMs, cpuMs: (cpu.user + cpu.system) / 1000, rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }));
  await db.close();
  process.exit(0);
}

const rounds = Number(process.argv[2] ?? 3);
const dataDir = join(mkdtempSync(join(tmpdir(), 'board-bff-pglite-start-')), 'pglite');
const run = async (which: string) =>
  JSON.parse(
    (await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, which, ...(which === 'directory' ? [dataDir] : [])])).stdout
      .trim()
      .split('\n')
      .at(-1)!,
  ) as Record<string, number>;
await run('app'); // makes the snapshot if there is none yet (the first start of an install)
await run('directory'); // makes the data directory (as the first demo does)
const order = ['default', 'app', 'directory'];
const results: Record<string, Record<string, number>[]> = { default: [], app: [], directory: [] };
for (let r = 0; r < rounds; r++) for (const which of r % 2 ? [...order].reverse() : order) results[which]!.push(await run(which));
rmSync(dirname(dataDir), { recursive: true, force: true });
const labels: Record<string, string> = {
  default: 'PGlite defaults (initdb each start)',
  app: 'in memory: snapshot + small memory settings',
  directory: 'data directory (PGLITE_DIR), resumed',
};
console.table(
  Object.entries(results).map(([which, runs]) => ({
    start: labels[which],
    ...Object.fromEntries(Object.keys(runs[0]!).map((k) => [k, Math.round(median(runs.map((x) => x[k]!)))])),
  })),
);
