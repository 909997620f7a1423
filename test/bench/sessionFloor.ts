/**
 * The floor under an authenticated API request (README "Performance"): what Express 5 alone, and
 * Express 5 + express-session + connect-redis 7 (ioredis, auto-pipelined, the same session record
 * board-bff keeps) cost per `GET /api/user`, with nothing else — no logging, metrics, CORS,
 * security headers, revocation check or idle-renewal logic. wrk, 50 connections, rounds alternate.
 * Compare the CPU µs per request with bench:peer's figures.
 *
 *   npx tsx test/bench/sessionFloor.ts [rounds=3] [seconds=3]
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import RedisStore from 'connect-redis';
import express, { type Express } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import '../../src/sessions/authState.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { seedSessions } from './seedSessions.js';
import { median } from './stats.js';
import { alternatingRounds } from './wrk.js';

const [roundsArg = '3', secondsArg = '3'] = process.argv.slice(2);
const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const redisUrl = await redisUrlForTests();
const prefix = `bench:${randomUUID().slice(0, 8)}:`;
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const [seeded] = await seedSessions({ redisUrl, prefix, issuer: 'http://issuer.test', secret: SECRET, count: 1 });

const bare = express();
bare.get('/api/user', (_req, res) => void res.json({ user: { id: 'user-0', username: 'user-0', name: 'user-0', email: null, roles: [] } }));
const withSession = express();
withSession.use(
  session({
    name: 'bff.sid',
    secret: SECRET,
    store: new RedisStore({ client: redis, prefix: `${prefix}sess:`, ttl: () => 1860 }),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'keep',
  }),
);
withSession.get('/api/user', (req, res) => void (req.session.auth ? res.json({ user: req.session.auth.user }) : res.status(401).end()));
const variants: Record<string, Express> = { 'Express 5 alone': bare, 'Express 5 + express-session + connect-redis': withSession };

const servers = await Promise.all(
  Object.entries(variants).map(async ([name, app]) => {
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/user` };
  }),
);
const check = await fetch(servers[1]!.url, { headers: { cookie: seeded!.cookie } });
if (check.status !== 200) throw new Error(`the session variant answered ${check.status}`);
const results = await alternatingRounds(
  servers.map((s) => ({ url: s.url, connections: 50, headers: { cookie: seeded!.cookie } })),
  Number(roundsArg),
  Number(secondsArg),
);
console.table(servers.map((s, i) => ({ variant: s.name, 'req/s': median(results[i]!.rps), 'CPU µs/request': Math.round(median(results[i]!.cpu)) })));
for (const s of servers) s.server.close();
await redis.del(`${prefix}sess:${seeded!.sid}`);
redis.disconnect();
process.exit(0);
