import { fileURLToPath } from 'node:url';
import { loadBundle } from './codeCache.js';
import type { main as Main } from '../main.js';

/**
 * `npm start` (dist/server.js): runs the CommonJS bundle of src/main.ts beside it (dist/main.cjs)
 * with V8's code cache made at build time (dist/main.cjs.cache, see scripts/buildServer.ts and
 * README "Performance"), then main(). With `--write-code-cache` (the build's own run only), writes
 * that cache as the process exits, so it holds every function compiled until then.
 */
const bundle = loadBundle(fileURLToPath(new URL('./main.cjs', import.meta.url)), fileURLToPath(new URL('./main.cjs.cache', import.meta.url)));
if (process.argv.includes('--write-code-cache')) process.once('exit', () => bundle.writeCodeCache());
await (bundle.exports.main as typeof Main)({ codeCache: bundle.codeCache });
