import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevProvider, CLIENT_ID, CLIENT_SECRET } from '../../dev/oidcProvider.js';
import { startReplica } from './replicas.js';
import { postLinesScript, runWrk } from './wrk.js';
import { createTestDatabase } from '../support/testDatabase.js';
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const db = await createTestDatabase();
const a = await startReplica({ DATABASE_URL: db.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: 'x'.repeat(40), REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: 'ab:', LIVENESS_INTERVAL_SECONDS: '0', LOG_LEVEL: process.env.LL ?? 'info' }, process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : []);
const out = [];
for (let i = 0; i < 4; i++) {
  const tokens = await Promise.all(Array.from({ length: 9000 }, (_, k) => op.signLogoutToken({ sub: `nobody-${i}-${k}` })));
  const file = join(await mkdtemp(join(tmpdir(), 'x-')), 't.txt'); await writeFile(file, tokens.join('\n'));
  const c0 = a.cpuMs(); const r = await runWrk({ url: a.url, seconds: 2, connections: 16, script: postLinesScript('/auth/backchannel-logout', 'logout_token', file) }); const c1 = a.cpuMs();
  out.push(`${r.requestsPerSecond}/s ${Math.round(((c1 - c0) * 1000) / r.requests)}µs${r.non2xx ? ' non2xx=' + r.non2xx : ''}`);
}
console.log(out.join(' | '));
await a.stop(); await db.drop(); await op.close(); process.exit(0);
