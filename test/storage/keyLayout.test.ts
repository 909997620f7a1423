import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/storage/keys.js';

/** The key column of the README's "Redis key layout" table: `bff:sess:<sid>` and the like, in order. */
function readmeKeyColumn(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split(/^## Redis key layout$/m)[1]?.split(/^## /m)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| (channel )?`/.test(line))
    .map((line) => /^\| (?:channel )?`([^`]+)`/.exec(line)![1]!.replaceAll('\\|', '|'));
}

describe('Redis key layout', () => {
  it('when the README table and storage/keys.ts are read side by side, then they name the same keys in the same order', () => {
    const documented = readmeKeyColumn();
    const builders = Object.entries(redisKeys('bff:'));
    expect(documented.length).toBeGreaterThan(10);

    // Each builder is called with its row's placeholders (`<sid>`, `<h(iss,sub)>`, …) and must give the row back.
    const built = builders.map(([name, builder], row) => {
      const placeholders = documented[row]?.match(/<[^>]+>/g) ?? [];
      if (typeof builder === 'string') return { name, key: builder, arity: 0, placeholders: placeholders.length };
      const call = builder as (...args: string[]) => string;
      return { name, key: call(...placeholders), arity: call.length, placeholders: placeholders.length };
    });
    expect(built.map(({ name, key }) => `${name}: ${key}`)).toEqual(documented.map((key, row) => `${builders[row]?.[0]}: ${key}`));
    for (const { name, arity, placeholders } of built) expect({ name, arity }).toEqual({ name, arity: placeholders });
  });
});
