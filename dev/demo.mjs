// `npm run demo`. Plain JavaScript, so that its process needs no TypeScript loader: dev/demo.ts and
// its dependencies (oidc-provider among them) are bundled by esbuild into dist-demo/ (only when a
// file they are built from changed since the last bundle) and run from there. Under
// `node --import tsx` the same start cost ~1 s more of loader start-up and made loading
// oidc-provider ~2.5× slower; bundled, the demo's process needs ~0.9–1.1 s of CPU until ready
// instead of ~1.2–1.8 s with its dependencies loaded module by module (README "Performance").
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
        // Dependencies bundled too (Node resolving and reading oidc-provider's modules one by one
        // was most of this process's start); esbuild stays outside (it runs its own binary).
        external: ['esbuild'],
        banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
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
