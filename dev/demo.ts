/**
 * `npm run demo`: the whole product on one machine, no external services, no internet.
 *  - a development OpenID Provider (demo users alice, bob, carol; no passwords) with an admin page,
 *  - the BFF, built into dist/ as `npm run build` does (without its type-check) and run as `npm start`
 *    runs it, serving the React board app on its own origin (in-process sessions and PGlite unless
 *    REDIS_URL / DATABASE_URL are set; PGlite keeps the board in .data/pglite, or PGLITE_DIR).
 * Settings: PORT (BFF, 3001), DEMO_PROVIDER_PORT (3002), HOST (127.0.0.1), DEMO_LOG=json for raw
 * logs; any BFF setting from the README may be given too.
 *
 * Run by dev/demo.mjs as a bundle in plain Node (no TypeScript loader in the process). The order is
 * the start's critical path (README "Performance"): the provider's port is bound first and its
 * requests held; the page and the server are built only when a source changed since their last
 * build; the BFF is spawned at once and starts while this process loads and starts the provider,
 * whose first request is the BFF's discovery. The BFF is ready without its board database: the
 * embedded PGlite starts on first use (a sign-in, whose user it provisions, or a board request).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stop as stopEsbuild } from 'esbuild';
import { generateKeyPair } from 'jose';
import { buildServer, serverDist, startFlags } from '../scripts/buildServer.js';
import { buildWeb, webDist } from '../scripts/buildWeb.js';
import { formatLogLine } from './demoLog.js';
import { buildUnlessFresh } from './freshBuild.mjs';
import { ACCOUNTS, CLIENT_ID, CLIENT_SECRET } from './providerAccounts.js';

const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (line: string): never => {
  process.stderr.write(`\nboard-bff demo: ${line}\n`);
  process.exit(1);
};

const root = fileURLToPath(new URL('..', import.meta.url));
const host = process.env.HOST || '127.0.0.1';
const port = portSetting('PORT', 3001);
const providerPort = portSetting('DEMO_PROVIDER_PORT', 3002);
const bff = process.env.BASE_URL || `http://${host}:${port}`;
const issuer = `http://${host}:${providerPort}`;

// The provider's signing key, generated on the thread pool while everything else starts.
const keyPair = generateKeyPair('RS256', { extractable: true });
await assertFree('PORT', port);
// Bound before the provider is loaded: a BFF that asks for discovery meanwhile waits for the answer
// instead of being refused and backing off.
const held: Array<[IncomingMessage, ServerResponse]> = [];
const hold = (req: IncomingMessage, res: ServerResponse) => void held.push([req, res]);
const providerServer = createServer(hold);
await listenOn(providerServer, 'DEMO_PROVIDER_PORT', providerPort);

say('\nboard-bff demo');
// esbuild bundles in a process of its own; a build whose inputs are all older than its last run is skipped.
const lockfiles = [`${root}package-lock.json`, `${root}node_modules/.package-lock.json`];
const builds = Promise.all([
  buildUnlessFresh(`${webDist}/.demo-build.json`, buildWeb, {
    inputs: [...lockfiles, `${root}scripts/buildWeb.ts`, `${root}web/index.html`, `${root}web/tsconfig.json`],
    outputs: [`${webDist}/index.html`],
  }).catch((err: Error) => fail(`building the React app failed: ${err.message}`)),
  buildUnlessFresh(`${serverDist}/.demo-build.json`, buildServer, {
    inputs: [...lockfiles, `${root}scripts/buildServer.ts`, `${root}tsconfig.json`],
  }).catch((err: Error) => fail(`building the server failed: ${err.message}`)),
]);

const defaults: Record<string, string> = {
  PORT: String(port),
  HOST: host,
  BASE_URL: bff,
  OIDC_ISSUER: issuer,
  CLIENT_ID,
  CLIENT_SECRET,
  // Short enough to watch "Sign out everyone" (no logout token) being noticed.
  LIVENESS_INTERVAL_SECONDS: '10',
  // glibc's malloc raises its mmap threshold as large blocks are freed (up to 32 MiB); from then on
  // buffers of a few MiB (PGlite's 9 MB WASM file read to compile it, …) come from the heap and
  // stay in RSS once freed. Fixed at its initial 128 KiB, freed buffers go back to the system: BFF
  // RSS after the first board use 140 → 126 MiB (README "Performance", the demo). Other C libraries ignore it.
  MALLOC_MMAP_THRESHOLD_: '131072',
};
// The board's data on disk, kept from one demo to the next (delete the directory to start afresh):
// outside the BFF's memory (its RSS after the first board use 297 → ~140 MiB), and a later start
// resumes it instead of unpacking a new cluster (README "Performance", the demo).
if (!process.env.DATABASE_URL) defaults.PGLITE_DIR = `${root}.data/pglite`;
const env = { ...process.env };
for (const [name, value] of Object.entries(defaults)) env[name] ||= value;

const [webBuilt, serverBuilt] = await builds;
stopEsbuild(); // its service process (~30 MiB) has nothing more to build
if (webBuilt || serverBuilt) say(`  ✓ built     ${[webBuilt && 'web/dist', serverBuilt && 'dist'].filter(Boolean).join(', ')} (sources changed since the last demo)`);
// The built server, exactly as `npm start` runs it (no TypeScript compiler in the process; its
// flags, under which the build made the code cache V8 accepts).
const serverEntry = `${serverDist}/server.js`;
const child = spawn(process.execPath, [...startFlags(), serverEntry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
const raw = process.env.DEMO_LOG === 'json';
let showLogs = false;
const recent: string[] = [];
for (const stream of [child.stdout, child.stderr]) {
  createInterface({ input: stream }).on('line', (line) => {
    logged();
    const shown = raw ? line : formatLogLine(line);
    if (shown === undefined) return;
    if (showLogs) say(`    ${shown}`);
    else recent.push(shown);
  });
}
// Each line the BFF logs (it listens, discovery succeeded, …) is a moment readiness may have changed.
let logged = () => undefined as void;
let closeProvider = () => new Promise<void>((resolve) => providerServer.close(() => resolve()));
child.on('exit', (code, signal) => {
  if (!showLogs) for (const line of recent.slice(-15)) process.stderr.write(`    ${line}\n`);
  void closeProvider();
  fail(`the BFF stopped (${signal ?? `exit code ${code}`})`);
});

const stop = () => {
  child.removeAllListeners('exit');
  child.once('exit', () => void closeProvider().then(() => process.exit(0)));
  child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// oidc-provider prints a one-time "Unsupported runtime" notice on Node 20 (it runs fine): not the
// first thing a newcomer should read.
const warn = console.warn;
console.warn = (...args: unknown[]) => (String(args[0]).includes('Unsupported runtime') ? undefined : warn(...args));
const { startDevProvider } = await import('./oidcProvider.js');
console.warn = warn;
const provider = await startDevProvider({ clientBaseUrl: bff, postLogoutRedirectUris: [`${bff}/`], host, server: providerServer, keyPair }).catch((err: Error) =>
  fail(`the demo provider could not start: ${err.message}`),
);
closeProvider = provider.close;
providerServer.off('request', hold);
for (const [req, res] of held.splice(0)) providerServer.emit('request', req, res);
say(`  ✓ provider  ${provider.issuer}   admin page: ${provider.issuer}/admin`);
say(`  … starting the BFF (${env.REDIS_URL ? 'Redis' : 'in-process'} sessions, ${env.DATABASE_URL ? 'PostgreSQL' : `embedded PGlite in ${relative(process.cwd(), env.PGLITE_DIR!) || '.'}, started at the first sign-in or board request`})`);

await waitUntilReady(`${bff}/readyz`, 90_000);
const alice = ACCOUNTS.alice;
// From this process's start: node's own start and the bundle's freshness check included.
say(`  ✓ board     ${bff}   ready in ${process.uptime().toFixed(1)} s`);
say();
say('  Watch a forced sign-out:');
say(`    1. Open ${bff} and sign in as ${alice.given_name} (${alice.given_name} ${alice.family_name}).`);
say(`    2. In another window open ${provider.issuer}/admin and press "Sign out this session".`);
say(`    3. ${alice.given_name}'s tab says "An administrator signed you out" at once.`);
say();
say(`  Ctrl+C stops the demo. Log (brief${raw ? '' : '; DEMO_LOG=json for raw lines'}):`);
for (const line of recent.filter((l) => !l.includes('listening'))) say(`    ${line}`);
showLogs = true;

function portSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`${name} must be a port number from 1 to 65535, got "${raw}"`);
  return value;
}

async function assertFree(name: string, value: number): Promise<void> {
  const probe = createNetServer();
  await listenOn(probe, name, value);
  await new Promise((resolve) => probe.close(resolve));
}

/** Listens on `value` at `host`, or stops the demo with one line naming the setting. */
async function listenOn(server: NetServer, name: string, value: number): Promise<void> {
  await new Promise<void>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? `port ${value} (${name}) is already in use — is another demo running? Choose another: ${name}=${value + 1000} npm run demo`
          : `port ${value} (${name}) cannot be used: ${err.message}`,
      ),
    );
    server.listen(value, host, () => resolve());
  });
}

/**
 * Polls `url` until it answers 2xx: at once after each line the BFF logs, else every 250 ms — a
 * fixed 25 ms poll cost the demo's process ~0.5 s of CPU over a start of several seconds on a busy
 * machine (hundreds of refused connections and 503s).
 */
async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 250);
      logged = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  fail(`the BFF did not become ready within ${timeoutMs / 1000} s (${url})`);
}
