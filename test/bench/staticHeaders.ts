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
import { median } from './stats.js';
import { alternatingRounds } from './wrk.js';

const [roundsArg = '3', secondsArg = '3'] = process.argv.slice(2);
const options = { crossOriginResourcePolicy: { policy: 'same-site' as const } };
const variants: Record<string, RequestHandler> = { 'helmet middleware': helmet(options), 'helmet replayed (staticHeaders)': staticHeaders(helmet(options)) };

const servers = await Promise.all(
  Object.entries(variants).map(async ([name, middleware]) => {
    const app = express();
    app.use(middleware);
    app.get('/api/user', (_req, res) => void res.json({ user: { id: 'alice', name: 'Alice Archer', roles: ['user'] } }));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/user` };
  }),
);
const results = await alternatingRounds(servers.map((s) => ({ url: s.url, connections: 50 })), Number(roundsArg), Number(secondsArg));
console.table(servers.map((s, i) => ({ variant: s.name, 'req/s': median(results[i]!.rps), 'CPU µs/request': Math.round(median(results[i]!.cpu)) })));
for (const s of servers) s.server.close();
process.exit(0);
