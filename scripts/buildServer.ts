import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where `buildServer` writes the server: `npm start` runs `dist/server.js`. */
export const serverDist = `${root}dist`;

/**
 * Bundles src/ and its dependencies into dist/ (`npm run build`, after type-checking with tsc), then
 * starts the bundle once to make V8's code cache for it:
 * - `dist/main.cjs`: src/main.ts and its dependencies, one CommonJS file (the database drivers in
 *   it run only when imported: PostgreSQL deployments never run PGlite's wrapper and the demo never
 *   runs pg). PGlite stays outside (it loads its WASM and data files from beside its own module), and
 *   so does pg's optional native binding. Source map beside it.
 * - `dist/main.cjs.cache`: V8's compiled code for it, as the build's own run of the server left it
 *   when it stopped (after start-up and a few /readyz and /healthz requests, against an OpenID
 *   Provider, Redis and PostgreSQL that refuse connections: nothing outside is needed to build).
 * - `dist/server.js` (src/start/bundleEntry.ts, what `npm start` runs): compiles dist/main.cjs with that
 *   cache when it was made for exactly this bundle by this Node version with these V8 flags, from
 *   source otherwise, and logs which (`codeCache`, see src/codeCache.ts).
 *
 * Why a bundle (README "Performance", test/bench/startAB.ts): started from tsc's ~100 files and the
 * ~300 files of its dependencies, Node spent most of `npm start` resolving, reading and compiling
 * modules (its ESM and CJS loaders were ~60 % of the CPU until ready). One file: CPU until ready
 * 970 → 580 ms, spawn → /readyz 808 → 565 ms, idle RSS 91.5 → 86.3 MiB (quiet machine, medians of 7).
 * Why CommonJS and a code cache: compiling the ES-module bundle was ~130 of those 580 ms, and Node 20
 * caches no compiled code for ES modules or for require() (`module.enableCompileCache` is Node
 * 22.1+); a `vm.Script` takes V8's cached data, and data made after the start holds the functions V8
 * compiled lazily, not only the top level. Instructions from spawn to /readyz 200: 0.69-0.84× the
 * ES-module bundle's (callgrind, `BENCH_CALLGRIND=1 npx tsx test/bench/startAB.ts`); CPU until ready
 * 0.73-0.93× at load 7-15; compiled from source (no usable cache) 1.08× (README "Performance", start-up).
 *
 * Returns esbuild's metafile of both builds (inputs and outputs, paths relative to the working
 * directory): the demo skips the build while none of its inputs changed (dev/freshBuild.mjs).
 */
export async function buildServer(): Promise<Metafile> {
  await rm(serverDist, { recursive: true, force: true });
  const results = await Promise.all([
    build({
      entryPoints: [`${root}src/main.ts`],
      outfile: `${serverDist}/main.cjs`,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      external: ['@electric-sql/pglite', 'pg-native'],
      // Strict mode for all of it, as in the ES module bundle this replaced; import.meta as the
      // modules use it (their own location, where @electric-sql/pglite resolves) from CommonJS.
      banner: {
        js: "'use strict';var __importMetaUrl=require('node:url').pathToFileURL(__filename).href,__importMetaResolve=(s)=>require('node:url').pathToFileURL(require.resolve(s)).href;",
      },
      define: { 'import.meta.url': '__importMetaUrl', 'import.meta.resolve': '__importMetaResolve' },
      plugins: [pgWithoutCloudflareProbe],
      minify: true,
      sourcemap: true,
      logLevel: 'warning',
      metafile: true, // the files it read: the demo skips the build while none changed (dev/freshBuild.mjs)
    }),
    build({
      entryPoints: [`${root}src/start/bundleEntry.ts`],
      outfile: `${serverDist}/server.js`,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
      metafile: true,
    }),
  ]);
  await writeCodeCache();
  return {
    inputs: Object.assign({}, ...results.map((r) => r.metafile.inputs)),
    outputs: Object.assign({}, ...results.map((r) => r.metafile.outputs)),
  };
}

/**
 * pg's lib/stream.js asks at load whether it runs on Cloudflare Workers, and where there is no global
 * `navigator` (Node < 21) it constructs a `Response` to find out — which loads Node's fetch (undici,
 * web streams, http2) into every replica on PostgreSQL, though nothing before the first sign-in
 * needs it. Inside that one module `Response` is declared undefined, so the probe answers "not
 * Cloudflare", as it does on Node anyway, without loading undici. Idle RSS after GC 69.1 → 63.9 MiB
 * (discovery and the JWKS already off fetch, src/oidc/getJson.ts; 80.0 before both; startAB.ts, 5
 * rounds, 2026-11-30). test/deploy/builtServer.test.ts checks that a ready server has not loaded undici.
 */
const pgWithoutCloudflareProbe: Plugin = {
  name: 'pg-without-cloudflare-probe',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => ({
      // On the file's first line: the source map's lines stay right.
      contents: `var Response;${await readFile(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

/**
 * Runs dist/server.js with `npm start`'s node flags (V8 accepts a cache only under the flags that
 * made it) and `--write-code-cache`, requests /readyz and /healthz, stops it with SIGTERM. Throws
 * if the process fails or leaves no cache.
 */
async function writeCodeCache(): Promise<void> {
  const refused = `127.0.0.1:${await unusedPort()}`;
  const child = spawn(process.execPath, [...startFlags(), `${serverDist}/server.js`, '--write-code-cache'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      OIDC_ISSUER: `http://${refused}`,
      CLIENT_ID: 'code-cache',
      CLIENT_SECRET: 'code-cache',
      REDIS_URL: `redis://${refused}`,
      DATABASE_URL: `postgres://code-cache@${refused}/code-cache`,
      WEB_DIR: 'off',
      SHUTDOWN_GRACE_SECONDS: '0',
    },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"msg":"listening"')) return;
      resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before it listened`)));
  });
  for (let i = 0; i < 3; i++) {
    await get(port, '/readyz');
    await get(port, '/healthz');
  }
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`the server's code-cache run exited with ${code}`);
  readFileSync(`${serverDist}/main.cjs.cache`);
}

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => res.resume().once('end', resolve)).once('error', reject).end();
  });
}

/** A loopback port nothing listens on right now: the refusing peers of the code-cache run. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The node flags `npm start` gives the server of checkout `dir` (this one by default): the words of
 * package.json's `start` script that begin with `--`. The demo, the benchmarks and the code-cache
 * run start the server with them, so they run what production runs.
 */
export function startFlags(dir = root): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildServer();
  process.stdout.write(`dist/ built in ${Date.now() - started} ms\n`);
}
