// Plain JavaScript: `npm run demo` (dev/demo.mjs) uses it before anything can load TypeScript.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Runs `build` unless its last run, recorded in `stampFile`, is still current: every output it wrote
 * exists and every input it read (esbuild's metafile) is older than the moment it began (by a
 * second: an input changed just before a build only costs one more build). Lockfiles
 * count as inputs (npm gives installed files their package's old mtimes, so a dependency upgrade
 * shows only there). The stamp is removed before a build and written after it succeeds, so a
 * failed or interrupted build is redone next time. Saves the demo 0.5–5 s of esbuild per start
 * (README "Performance").
 *
 * @param {string} stampFile where the record is kept (inside the output directory: whatever
 *   replaces the outputs, e.g. `npm run build` emptying dist/, removes it too)
 * @param {() => Promise<{ inputs: Record<string, unknown>; outputs: Record<string, unknown> }>} build
 *   builds and returns esbuild's metafile (paths relative to the working directory)
 * @param {{ inputs?: string[]; outputs?: string[] }} [extra] absolute paths the metafile does not name
 *   (the build script, lockfiles, tsconfig; files copied beside the bundle)
 * @returns {Promise<boolean>} true when it built, false when the last build was current
 */
export async function buildUnlessFresh(stampFile, build, extra = {}) {
  if (await isFresh(stampFile)) return false;
  await rm(stampFile, { force: true });
  const builtAt = Date.now();
  const metafile = await build();
  const files = (names) => names.map((name) => resolve(name));
  // Inputs from no file (esbuild's `<define:…>`, `(disabled):…`) are left out: they cannot be stat'ed.
  const inputs = await existing([...files(Object.keys(metafile.inputs)), ...(extra.inputs ?? [])]);
  const outputs = [...files(Object.keys(metafile.outputs)), ...(extra.outputs ?? [])];
  await writeFile(stampFile, JSON.stringify({ builtAt, inputs, outputs }));
  return true;
}

async function isFresh(stampFile) {
  try {
    const { builtAt, inputs, outputs } = JSON.parse(await readFile(stampFile, 'utf8'));
    const [inputTimes] = await Promise.all([Promise.all(inputs.map((file) => stat(file).then((s) => s.mtimeMs))), Promise.all(outputs.map((file) => stat(file)))]);
    // The kernel stamps files from a coarser clock than Date.now(): an input written just after the
    // build began may carry a time a little before it. Within a second, it counts as changed.
    return inputTimes.every((mtime) => mtime < builtAt - 1000);
  } catch {
    return false; // no stamp, a damaged one, or a file gone
  }
}

async function existing(paths) {
  const found = await Promise.all(paths.map((file) => stat(file).then(() => file, () => undefined)));
  return found.filter((file) => file !== undefined);
}
