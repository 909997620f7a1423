import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const root = fileURLToPath(new URL('../web/', import.meta.url));

/** Where `buildWeb` writes the app (the BFF serves it from here unless WEB_DIR says otherwise). */
export const webDist = `${root}dist`;

/**
 * Bundles the React board app (web/) into web/dist: index.html, assets/app.js and assets/app.css.
 * esbuild, minified, with source maps; about a second. Used by `npm run build:web`, the demo and the
 * browser tests, so nothing built is committed. Returns esbuild's metafile (index.html is copied
 * beside the bundle, outside it).
 */
export async function buildWeb(): Promise<Metafile> {
  await mkdir(`${webDist}/assets`, { recursive: true });
  const { metafile } = await build({
    entryPoints: { app: `${root}src/main.tsx` },
    outdir: `${webDist}/assets`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    tsconfig: `${root}tsconfig.json`,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    metafile: true, // the files it read: the demo skips the build while none changed (dev/freshBuild.mjs)
  });
  await copyFile(`${root}index.html`, `${webDist}/index.html`);
  return metafile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildWeb();
  process.stdout.write(`web/dist built in ${Date.now() - started} ms\n`);
}
