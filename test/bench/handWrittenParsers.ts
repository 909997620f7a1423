/**
 * A/B for the two hand-written pieces on the hot path, against the libraries they replace:
 *  - `readForm` (src/backchannel/readForm.ts) against `express.urlencoded` (body-parser, as the back-channel
 *    route used it: extended false, 16 KB, 32 parameters), on the back-channel body shape: one
 *    `logout_token` form field holding an RS256-signed logout token (~0.9 KB);
 *  - `createRequestLogger` (src/http/requestLogger.ts) against pino-http configured as the app had it
 *    (request id echoed, quiet paths, method/masked url/status serializers), both on the app's own
 *    logger at `info` writing to /dev/null, on `GET /api/user` answering a small JSON body.
 * Each variant is a bare Express app in this process; wrk (1 thread, `connections` connections,
 * loopback) drives one variant at a time for `seconds`, the variants in turn and in reverse order
 * every other round. The figure is this process's CPU (user + system) per request, which wrk's own
 * CPU does not enter. Each pair has a floor: the same route without the piece (the form drained
 * unread; no access log), so "own µs" is what the piece itself costs. Prints medians of the rounds
 * and the median of the per-round ratios library / hand-written (above 1: the hand-written piece is
 * cheaper). Stops by itself, after about (rounds + 1) × 6 × seconds.
 *
 *   npx tsx test/bench/handWrittenParsers.ts [rounds=5] [seconds=3] [connections=32]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { createLogger } from '../../src/logger.js';
import { readForm } from '../../src/backchannel/readForm.js';
import { createRequestLogger, requestIdOf } from '../../src/http/requestLogger.js';
import { median } from './stats.js';
import { alternatingRounds } from './wrk.js';

const [roundsArg = '5', secondsArg = '3', connectionsArg = '32'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
const connections = Number(connectionsArg);

const FORM_PATH = '/auth/backchannel-logout';
const USER_PATH = '/api/user';
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const { privateKey } = await generateKeyPair('RS256');
const logoutToken = await new SignJWT({
  sid: 'f3c1b0c6-6e5e-4f7a-9d0b-2d1a4c6e8b91',
  events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
})
  .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'Qm9hcmQtYmZmLWJlbmNoLWtleS0x' })
  .setIssuer('http://127.0.0.1:8080/realms/board')
  .setAudience('board-bff')
  .setSubject('7d0f4a0e-2f55-4c8e-a7c2-0b1f6a3e9d44')
  .setIssuedAt()
  .setExpirationTime('2m')
  .setJti('9b2d7c1e-5a4f-4e3b-8c6d-1f0e2a3b4c5d')
  .sign(privateKey);
const formBody = `logout_token=${logoutToken}`;

/** The app's logger, at `info`, writing where the bench does not measure a terminal. */
const log = createLogger({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));

/**
 * pino-http as src/http/requestLogger.ts used it before it was written by hand (commit b571610),
 * but for the query masking: the benchmark's URL has no query, where masking returns at once.
 */
const pinoHttpLogger = pinoHttp({
  logger: log,
  genReqId(req, res) {
    const id = requestIdOf(req);
    res.setHeader('X-Request-Id', id);
    return id;
  },
  autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]!) },
  customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
  serializers: {
    req: (req: Request & { id?: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
    res: (res: Response) => ({ statusCode: res.statusCode }),
  },
  wrapSerializers: false,
});

/** 200 when the form holds exactly one non-empty logout_token, as the back-channel handler checks. */
const answerTokens = (res: Response, tokens: unknown[]) =>
  void res.status(tokens.length === 1 && typeof tokens[0] === 'string' && tokens[0] !== '' ? 200 : 400).end();
const answerUser: RequestHandler = (_req, res) => void res.json({ user: { id: 'alice', name: 'Alice Archer', roles: ['user'] } });

interface Variant {
  name: string;
  group: 'form' | 'log';
  side: 'floor' | 'hand' | 'library';
  app: express.Express;
  wrk: { path: string; script?: string };
}

const postForm = `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "${formBody}"
`;

const variants: Variant[] = [];
const add = (name: string, group: Variant['group'], side: Variant['side'], build: (app: express.Express) => void, wrk: Variant['wrk']) => {
  const app = express();
  build(app);
  variants.push({ name, group, side, app, wrk });
};

add('form floor: body drained unread', 'form', 'floor', (app) =>
  app.post(FORM_PATH, (req, res) => {
    req.on('end', () => answerTokens(res, ['unread'])).resume();
  }),
  { path: FORM_PATH, script: postForm },
);
add('form: readForm', 'form', 'hand', (app) =>
  app.post(FORM_PATH, async (req, res) => answerTokens(res, (await readForm(req, 16 * 1024)).getAll('logout_token'))),
  { path: FORM_PATH, script: postForm },
);
add('form: express.urlencoded', 'form', 'library', (app) =>
  app.post(FORM_PATH, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 }), (req, res) => {
    const token: unknown = (req.body as Record<string, unknown> | undefined)?.logout_token;
    answerTokens(res, Array.isArray(token) ? token : token === undefined ? [] : [token]);
  }),
  { path: FORM_PATH, script: postForm },
);
add('log floor: no access log', 'log', 'floor', (app) => app.get(USER_PATH, answerUser), { path: USER_PATH });
add('log: createRequestLogger', 'log', 'hand', (app) => {
  app.use(createRequestLogger(log));
  app.get(USER_PATH, answerUser);
}, { path: USER_PATH });
add('log: pino-http', 'log', 'library', (app) => {
  app.use(pinoHttpLogger);
  app.get(USER_PATH, answerUser);
}, { path: USER_PATH });

const listening = await Promise.all(
  variants.map(async (variant) => {
    const server = createServer(variant.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${variant.wrk.path}`;
    return { variant, server, url };
  }),
);
const measured = await alternatingRounds(
  listening.map((s) => ({ url: s.url, connections, ...(s.variant.wrk.script ? { script: s.variant.wrk.script } : {}) })),
  rounds,
  seconds,
);
const servers = listening.map((s, i) => ({ ...s, ...measured[i]! }));

const round1 = (n: number) => Math.round(n * 10) / 10;
const floorOf = (group: Variant['group']) => servers.find((s) => s.variant.group === group && s.variant.side === 'floor')!;

console.log(`${rounds} rounds of ${seconds} s, ${connections} connections, body ${Buffer.byteLength(formBody)} bytes; medians`);
console.table(
  servers.map((s) => ({
    variant: s.variant.name,
    'CPU µs/request': round1(median(s.cpu)),
    'own µs': s.variant.side === 'floor' ? '' : round1(median(s.cpu.map((cpu, i) => cpu - floorOf(s.variant.group).cpu[i]!))),
    'req/s': Math.round(median(s.rps)),
    'CPU µs per round': s.cpu.map((cpu) => Math.round(cpu)).join(' '),
  })),
);
console.table(
  (['form', 'log'] as const).map((group) => {
    const hand = servers.find((s) => s.variant.group === group && s.variant.side === 'hand')!;
    const library = servers.find((s) => s.variant.group === group && s.variant.side === 'library')!;
    const ratios = hand.cpu.map((cpu, i) => library.cpu[i]! / cpu);
    return {
      pair: `${library.variant.name} / ${hand.variant.name}`,
      'CPU ratio (median of rounds)': median(ratios).toFixed(2),
      'min–max': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      'CPU saved µs/request': round1(median(library.cpu.map((cpu, i) => cpu - hand.cpu[i]!))),
    };
  }),
);
for (const s of servers) s.server.close();
process.exit(0);
