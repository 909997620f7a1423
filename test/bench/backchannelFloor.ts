/**
 * The floor under a back-channel logout (README "Performance"): what it costs, per valid logout
 * token, to receive the form and verify the token with jose (`jwtVerify` against the issuer's JWKS,
 * imported once) and answer 200 — on bare `node:http`, and through Express 5 — with nothing else:
 * no replay check, index lookup, revocation, rate limit, logging or metrics. wrk, 32 connections,
 * every token valid; rounds alternate. Compare the CPU µs per token with bench:peer's figures.
 *
 *   npx tsx test/bench/backchannelFloor.ts [rounds=3] [seconds=3]
 */
import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { CLIENT_ID, startDevProvider } from '../../dev/oidcProvider.js';
import { readForm } from '../../src/backchannel/readForm.js';
import { median } from './stats.js';
import { alternatingRounds, postLinesScript } from './wrk.js';

const [roundsArg = '3', secondsArg = '3'] = process.argv.slice(2);
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const metadata = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
const keys = createLocalJWKSet((await (await fetch(metadata.jwks_uri)).json()) as JSONWebKeySet);
const verify = (token: string) =>
  jwtVerify(token, keys, { issuer: op.issuer, audience: CLIENT_ID, algorithms: ['RS256'], requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti'] });

const bare: RequestListener = (req, res) => {
  readForm(req, 16 * 1024)
    .then((form) => verify(form.get('logout_token') ?? ''))
    .then(() => res.writeHead(200, { 'Cache-Control': 'no-store' }).end(), () => res.writeHead(400).end());
};
const withExpress = express();
withExpress.post('/auth/backchannel-logout', async (req, res) => {
  try {
    await verify((await readForm(req, 16 * 1024)).get('logout_token') ?? '');
    res.set('Cache-Control', 'no-store').status(200).end();
  } catch {
    res.status(400).end();
  }
});
const variants: Record<string, RequestListener> = { 'node:http + jose': bare, 'Express 5 + jose': withExpress };

const dir = await mkdtemp(join(tmpdir(), 'bench-bcfloor-'));
const tokenFile = async () => {
  const file = join(dir, `${randomUUID()}.txt`);
  const tokens = await Promise.all(Array.from({ length: 6000 }, (_, i) => op.signLogoutToken({ sub: `nobody-${i}`, sid: randomUUID() })));
  await writeFile(file, tokens.join('\n'));
  return file;
};
const file = await tokenFile();
const servers = await Promise.all(
  Object.entries(variants).map(async ([name, listener]) => {
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }),
);
const script = postLinesScript('/auth/backchannel-logout', 'logout_token', file);
const results = await alternatingRounds(servers.map((s) => ({ url: s.url, connections: 32, script })), Number(roundsArg), Number(secondsArg));
console.table(servers.map((s, i) => ({ variant: s.name, 'tokens/s': median(results[i]!.rps), 'CPU µs/token': Math.round(median(results[i]!.cpu)) })));
for (const s of servers) s.server.close();
await op.close();
process.exit(0);
