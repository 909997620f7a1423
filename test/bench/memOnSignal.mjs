// Preloaded into benchmark processes (never into the app) by sseMemory.ts: SIGUSR2 runs a full GC and
// writes the process's memory figures to <tmpdir>/bench-mem-<pid>.json.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.space_size, used: s.space_used_size }]));
  const figures = JSON.stringify({ ...process.memoryUsage(), spaces });
  // BENCH_SNAPSHOT_DIR: also a heap snapshot each time (for diffing by constructor).
  if (process.env.BENCH_SNAPSHOT_DIR) writeHeapSnapshot(join(process.env.BENCH_SNAPSHOT_DIR, `${process.pid}-${Date.now()}.heapsnapshot`));
  writeFileSync(join(tmpdir(), `bench-mem-${process.pid}.json`), figures);
});
