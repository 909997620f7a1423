/**
 * What the session record's size costs each request in express-session and connect-redis (README
 * "Performance", second pass): the record is parsed once (connect-redis) and hashed twice
 * (express-session's change detection: `JSON.stringify` with a replacer, then SHA-1), done here
 * exactly as they do it, for a record holding Keycloak-sized tokens and for the record that keeps
 * only their times. In-process, rounds alternate; CPU µs per request.
 *
 *   npx tsx test/bench/recordSize.ts [rounds=5] [iterations=20000]
 */
import { createHash } from 'node:crypto';
import { tokenSet } from './seedSessions.js';
import { median } from './stats.js';

const [roundsArg = '5', iterationsArg = '20000'] = process.argv.slice(2);
const now = Date.now();
const tokens = tokenSet('keycloak', Math.floor(now / 1000), now + 300_000);
const record = (withTokens: boolean) =>
  JSON.stringify({
    cookie: { originalMaxAge: 43_200_000, expires: new Date(now + 43_200_000).toISOString(), httpOnly: true, path: '/', sameSite: 'lax' },
    auth: {
      issuer: 'https://keycloak.example/realms/board',
      sub: 'f1e2d3c4-5b6a-4789-90ab-cdef01234567',
      providerSid: '0b2c8e5a-7f3d-4e1b-9a6c-2d4f8e0b1c3a',
      user: { id: 'f1e2d3c4-5b6a-4789-90ab-cdef01234567', username: 'alice', name: 'Alice Example', email: 'alice@example.com', roles: ['board-user'] },
      tokens: withTokens ? tokens : { expiresAt: tokens.expiresAt, issuedAt: tokens.issuedAt },
      loginTime: new Date(now).toISOString(),
      absoluteExpiresAt: now + 43_200_000,
    },
  });
// express-session's hash(): the session without its cookie, serialised, SHA-1.
const hash = (sess: object) =>
  createHash('sha1')
    .update(JSON.stringify(sess, function (this: unknown, key, val: unknown) { return this === sess && key === 'cookie' ? undefined : val; }), 'utf8')
    .digest('hex');
const variants = [
  { name: 'tokens in the record', json: record(true), cpu: [] as number[] },
  { name: "the tokens' times only", json: record(false), cpu: [] as number[] },
];
const iterations = Number(iterationsArg);
for (let round = 0; round < Number(roundsArg); round++) {
  for (const v of round % 2 ? [...variants].reverse() : variants) {
    const before = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      const sess = JSON.parse(v.json) as object;
      if (hash(sess) !== hash(sess)) throw new Error('unstable hash');
    }
    const used = process.cpuUsage(before);
    v.cpu.push((used.user + used.system) / iterations);
  }
}
console.table(variants.map((v) => ({ record: v.name, bytes: v.json.length, 'CPU µs per request': Number(median(v.cpu).toFixed(1)) })));
