/**
 * A/B for src/http/staticHeaders.ts: an Express app answering a small JSON body behind helmet as
 * middleware (A) and behind helmet's headers replayed (B), driven in turn by wrk (50 connections,
 * `seconds` each, `rounds` rounds, loopback). Prints server CPU µs per request and req/s, medians.
 *
 *   npx tsx test/bench/staticHeaders.ts [rounds=3] [seconds=3]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { staticHeaders } from '../../src/http/staticHeaders.js';
import { runWrk } from './wrk.js';

const [roundsArg = '3', secondsArg = '3'] = process.argv.slice(2);
const options = { crossOriginResourcePolicy: { policy: 'same-site' as const } };
const variants: Record<string, RequestHandler> = { 'helmet middleware': helmet(options), 'helmet replayed (staticHeaders)': staticHeaders(helmet(options)) };

const results: Record<string, { rps: number[]; cpu: number[] }> = {};
const servers = await Promise.all(
  Object.entries(variants).map(async ([name, middleware]) => {
    const app = express();
    app.use(middleware);
    app.get('/api/user', (_req, res) => void res.json({ user: { id: 'alice', name: 'Alice Archer', roles: ['user'] } }));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    results[name] = { rps: [], cpu: [] };
    return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/user` };
  }),
);
for (const s of servers) await runWrk({ url: s.url, seconds: 1, connections: 50 });
for (let r = 0; r < Number(roundsArg); r++) {
  for (const s of r % 2 ? [...servers].reverse() : servers) {
    const before = process.cpuUsage();
    const run = await runWrk({ url: s.url, seconds: Number(secondsArg), connections: 50 });
    const used = process.cpuUsage(before);
    results[s.name]!.rps.push(run.requestsPerSecond);
    results[s.name]!.cpu.push((used.user + used.system) / run.requests);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.table(Object.entries(results).map(([name, r]) => ({ variant: name, 'req/s': median(r.rps), 'CPU µs/request': Math.round(median(r.cpu)) })));
for (const s of servers) s.server.close();
process.exit(0);
