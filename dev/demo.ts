/**
 * `npm run demo`: the whole product on one machine with no external services.
 *  - a development OpenID Provider on http://127.0.0.1:3002 (demo users alice, bob, carol; no passwords),
 *  - the BFF itself on http://127.0.0.1:3001 (in-process sessions and PGlite unless REDIS_URL /
 *    DATABASE_URL are set),
 *  - a small page standing in for the React app on http://127.0.0.1:3000.
 * Any setting from the README may be given in the environment; these are only defaults.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from './oidcProvider.js';

const bff = 'http://127.0.0.1:3001';
const frontend = 'http://127.0.0.1:3000';

const provider = await startDevProvider({ clientBaseUrl: bff, postLogoutRedirectUris: [`${frontend}/`], port: 3002 });

const page = (await readFile(new URL('./demo.html', import.meta.url), 'utf8')).replaceAll('__BFF__', bff);
createServer((_req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(page);
}).listen(3000, '127.0.0.1');

const defaults: Record<string, string> = {
  PORT: '3001',
  HOST: '127.0.0.1',
  BASE_URL: bff,
  FRONTEND_URL: frontend,
  OIDC_ISSUER: provider.issuer,
  CLIENT_ID,
  CLIENT_SECRET,
  LIVENESS_INTERVAL_SECONDS: '30',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
process.stderr.write(`\nboard-bff demo: open ${frontend} (provider ${provider.issuer}, BFF ${bff})\n\n`);
await import('../src/server.js');
