/**
 * Start-up benchmark (README "Performance"): time from spawning the built server until /readyz
 * answers 200, and its RSS once idle, with Redis + PostgreSQL and in embedded mode (in-process
 * sessions, PGlite). Median of `runs` starts each.
 *
 *   npm run build && npx tsx test/bench/startup.ts [runs=5]
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { startReplica } from './replicas.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 5);
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const database = await createPostgresDatabase();
const redisUrl = await redisUrlForTests();
const base = { OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: 'bench-startup-secret-0123456789-abcdef' };
const modes: Record<string, Record<string, string>> = {
  'Redis + PostgreSQL': { ...base, REDIS_URL: redisUrl, REDIS_PREFIX: `bench:${randomUUID().slice(0, 8)}:`, DATABASE_URL: database.url },
  'embedded (memory + PGlite)': base,
};

const rows = [];
for (const [mode, env] of Object.entries(modes)) {
  const readyMs: number[] = [];
  const rssMiB: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const replica = await startReplica(env);
    readyMs.push(performance.now() - started);
    // CPU spent until ready: steadier than wall time on a shared, busy host.
    cpuMs.push(replica.cpuMs());
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await replica.collectGarbage();
    rssMiB.push(replica.rssKiB() / 1024);
    await replica.stop();
  }
  rows.push({ mode, 'start → ready (median ms)': Math.round(median(readyMs)), 'CPU until ready (median ms)': Math.round(median(cpuMs)), 'idle RSS (median MiB)': Math.round(median(rssMiB)) });
}
console.table(rows);
await op.close();
await database.drop();
process.exit(0);

