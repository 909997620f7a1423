import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** The README's "Source map:" paragraph: every `src/…` path it names. */
function pathsInSourceMap(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('Source map: ');
  expect(start).toBeGreaterThan(0);
  const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
  return [...paragraph.matchAll(/`(src\/[^`]*)`/g)].map((m) => m[1]!);
}

describe('the README source map', () => {
  it('when read against src/, then it names every folder and top-level module, and nothing that is gone', () => {
    const named = pathsInSourceMap();
    const entries = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((entry) => entry.name !== 'types') // ambient declarations for untyped packages
      .map((entry) => `src/${entry.name}${entry.isDirectory() ? '/' : ''}`);
    expect(entries.filter((entry) => !named.some((path) => path === entry || path.startsWith(entry)))).toEqual([]);
    expect(named.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
