import { execFile } from 'node:child_process';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  latencyMs: { p50: number; p90: number; p99: number };
}

/**
 * Load from wrk (Debian package `wrk`), a C load generator: a Node client on the same two cores
 * would measure itself as much as the server. `script` is wrk Lua (request/response hooks).
 */
export async function runWrk(options: {
  url: string;
  seconds: number;
  connections: number;
  script?: string;
  headers?: Record<string, string>;
}): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-wrk-'));
  const args = ['--latency', '-t', '1', '-c', String(options.connections), '-d', `${options.seconds}s`];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (options.script) {
    const scriptPath = join(dir, 'script.lua');
    await writeFile(scriptPath, options.script);
    args.push('-s', scriptPath);
  }
  args.push(options.url);
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('wrk', args, { timeout: (options.seconds + 30) * 1000 }));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new Error('wrk is needed for the benchmarks: apt-get install wrk');
    throw err;
  }
  const number = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? NaN);
  const latency = (percent: string) => toMs(new RegExp(`^\\s+${percent}%\\s+([\\d.]+\\w+)`, 'm').exec(stdout)?.[1]);
  return {
    requestsPerSecond: Math.round(number(/Requests\/sec:\s+([\d.]+)/)),
    requests: number(/(\d+) requests in/),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/) || 0,
    latencyMs: { p50: latency('50'), p90: latency('90'), p99: latency('99') },
  };
}

function toMs(value: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value ?? '');
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n;
}

/**
 * wrk Lua (one thread) that POSTs a fresh line of a file with each request, e.g. a new logout token.
 * Lines are reused only if the run outlasts the file; such requests show up as non-2xx (replays).
 */
export const postLinesScript = (path: string, field: string, file: string) => `
local lines, idx = {}, 0
for line in io.lines("${file}") do table.insert(lines, line) end
request = function()
  idx = idx + 1
  local line = lines[((idx - 1) % #lines) + 1]
  return wrk.format("POST", "${path}", { ["Content-Type"] = "application/x-www-form-urlencoded" }, "${field}=" .. line)
end
`;

/** One wrk load: everything but the duration. */
export type WrkLoad = Omit<Parameters<typeof runWrk>[0], 'seconds'>;

/**
 * Servers living in this process, loaded by wrk one after another in alternating rounds (every
 * other round in reverse order, after a 1 s warm-up of each): per load, each round's CPU µs this
 * process spent per request and its req/s. Throws on any non-2xx answer, so a broken variant
 * cannot pass for a fast one.
 */
export async function alternatingRounds(loads: readonly WrkLoad[], rounds: number, seconds: number): Promise<{ cpu: number[]; rps: number[] }[]> {
  const measure = async (load: WrkLoad, runSeconds: number) => {
    const before = process.cpuUsage();
    const run = await runWrk({ ...load, seconds: runSeconds });
    const used = process.cpuUsage(before);
    if (run.non2xx > 0 || !(run.requests > 0)) throw new Error(`${load.url}: ${run.non2xx} non-2xx of ${run.requests} requests`);
    return { cpu: (used.user + used.system) / run.requests, rps: run.requestsPerSecond };
  };
  const results = loads.map(() => ({ cpu: [] as number[], rps: [] as number[] }));
  for (const load of loads) await measure(load, 1);
  const order = loads.map((_, i) => i);
  for (let round = 0; round < rounds; round++) {
    for (const i of round % 2 ? [...order].reverse() : order) {
      const { cpu, rps } = await measure(loads[i]!, seconds);
      results[i]!.cpu.push(cpu);
      results[i]!.rps.push(rps);
    }
  }
  return results;
}
