import { PGlite } from '@electric-sql/pglite';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const mode = process.argv[2];
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status','utf8'))[1])/1024);
const t = performance.now();
const cache = '/tmp/perf-pg-dump.tar.gz';
let opts = {};
if (mode === 'load') opts = { loadDataDir: new Blob([readFileSync(cache)]) };
if (mode === 'small') opts = { postgresqlconf: ['shared_buffers=16MB', 'work_mem=1MB', 'maintenance_work_mem=8MB', 'temp_buffers=1MB', 'wal_buffers=-1'] };
if (mode === 'loadsmall') opts = { loadDataDir: new Blob([readFileSync(cache)]), initialMemory: 64*1024*1024, postgresqlconf: ['shared_buffers=16MB'] };
const db = new PGlite(opts);
await db.waitReady;
const t1 = performance.now();
await db.query('select 1');
if (mode === 'dump') { const blob = await db.dumpDataDir('gzip'); writeFileSync(cache, Buffer.from(await blob.arrayBuffer())); }
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 300));
console.log(mode, 'ready ms', Math.round(t1 - t), 'rss MiB', rss(), (await db.query('show shared_buffers')).rows[0]);
await db.close();
