import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUnlessFresh } from '../../dev/freshBuild.mjs';

describe('the demo’s build skip (dev/freshBuild.mjs)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** Files last written a minute ago (as if the build had run long after them). */
  const age = async (...files: string[]) => {
    const past = new Date(Date.now() - 60_000);
    for (const file of files) await utimes(file, past, past);
  };

  /** A "build" reading input.ts (and lock.json as an extra input) and writing out.js, counting its runs. */
  const setUp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'board-bff-fresh-'));
    dirs.push(dir);
    const [input, lock, output, stamp] = ['input.ts', 'lock.json', 'out.js', '.stamp.json'].map((name) => join(dir, name)) as [string, string, string, string];
    await writeFile(input, 'export {}');
    await writeFile(lock, '{}');
    await age(input, lock);
    let builds = 0;
    const build = () =>
      buildUnlessFresh(
        stamp,
        async () => {
          builds += 1;
          await writeFile(output, `// build ${builds}`);
          // esbuild's metafile names files relative to the working directory.
          return { inputs: { [relative(process.cwd(), input)]: {}, '<define:process.env.NODE_ENV>': {} }, outputs: { [relative(process.cwd(), output)]: {} } };
        },
        { inputs: [lock] },
      );
    return { input, lock, output, build, builds: () => builds };
  };

  it('when nothing changed since the last build, then it does not build again', async () => {
    const t = await setUp();
    expect(await t.build()).toBe(true);
    expect(await t.build()).toBe(false);
    expect(t.builds()).toBe(1);
  });

  it('when an input, an extra input (a lockfile) or an output changes or goes, then it builds again', async () => {
    const t = await setUp();
    await t.build();
    await writeFile(t.input, 'export const changed = 1');
    expect(await t.build()).toBe(true);
    await writeFile(t.lock, '{"changed": true}');
    expect(await t.build()).toBe(true);
    await rm(t.output);
    expect(await t.build()).toBe(true);
    expect(t.builds()).toBe(4);
    await age(t.input, t.lock);
    expect(await t.build()).toBe(false);
  });

  it('when a build fails, then the next call builds again', async () => {
    const t = await setUp();
    await t.build();
    await writeFile(t.input, 'export const changed = 1');
    await expect(buildUnlessFresh(join(t.output, '..', '.stamp.json'), async () => Promise.reject(new Error('syntax error')))).rejects.toThrow('syntax error');
    expect(await t.build()).toBe(true);
  });
});
