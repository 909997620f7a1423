import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where `buildServer` writes the server: `npm start` runs `dist/server.js`. */
export const serverDist = `${root}dist`;

/**
 * Bundles src/ and its dependencies into dist/ (`npm run build`, after type-checking with tsc): one
 * ES module, `dist/server.js`, plus a chunk per lazily imported database driver, so PostgreSQL
 * deployments never load PGlite and the demo never loads pg. Source maps beside them.
 *
 * Why a bundle (README "Performance", test/bench/startAB.ts): started from tsc's ~100 files and the
 * ~300 files of its dependencies, Node spent most of `npm start` resolving, reading and compiling
 * modules (its ESM and CJS loaders were ~60 % of the CPU until ready). One file: CPU until ready
 * 970 → 580 ms, spawn → /readyz 808 → 565 ms, idle RSS 91.5 → 86.3 MiB (quiet machine, medians of 7). PGlite stays outside the bundle (it loads its WASM and data
 * files from beside its own module), and so does pg's optional native binding. Returns esbuild's
 * metafile (inputs and outputs, paths relative to the working directory).
 */
export async function buildServer(): Promise<Metafile> {
  await rm(serverDist, { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints: [`${root}src/server.ts`],
    outdir: serverDist,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['@electric-sql/pglite', 'pg-native'],
    // The CommonJS dependencies (express, ioredis, pg, …) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    metafile: true, // the files it read: the demo skips the build while none changed (dev/freshBuild.mjs)
  });
  return metafile;
}

/**
 * The node flags `npm start` gives the server of checkout `dir` (this one by default): the words of
 * package.json's `start` script that begin with `--`. The demo and the benchmarks start the server
 * with them, so they run what production runs.
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
