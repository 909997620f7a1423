// `npm run demo`. Plain JavaScript, so that its process needs no TypeScript loader: dev/demo.ts is
// bundled by esbuild into dist-demo/ (only when a file it is built from changed since the last
// bundle) and run from there. Under `node --import tsx` the same start cost ~1 s more of loader
// start-up and made loading oidc-provider ~2.5× slower (README "Performance").
import { fileURLToPath } from 'node:url';
import { buildUnlessFresh } from './freshBuild.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// One level below the checkout, as dev/ and scripts/ are: their `new URL('..', import.meta.url)` stays the checkout.
const out = `${root}dist-demo`;
try {
  await buildUnlessFresh(
    `${out}/.demo-build.json`,
    async () => {
      const { build } = await import('esbuild');
      const { metafile } = await build({
        entryPoints: [`${root}dev/demo.ts`],
        outdir: out,
        bundle: true,
        splitting: true, // the provider stays a separate chunk, imported when the demo wants it
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        logLevel: 'warning',
        metafile: true,
      });
      return metafile;
    },
    { inputs: [fileURLToPath(import.meta.url), `${root}tsconfig.json`, `${root}package-lock.json`, `${root}node_modules/.package-lock.json`] },
  );
} catch (err) {
  process.stderr.write(`\nboard-bff demo: building the demo failed: ${err.message}\n`);
  process.exit(1);
}
await import(`${out}/demo.js`);
