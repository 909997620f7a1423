import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/** Storage and domain code: it may throw HttpError (src/errors.ts), never reach into src/http/. */
const BELOW_HTTP = ['storage', 'db', 'events', 'sessions', 'oidc', 'board'];
/** Folders that also hold the HTTP adapters of their flow (routes, endpoint handlers): only those may. */
const WITH_ADAPTERS = ['audit', 'auth', 'backchannel'];
const HTTP_ADAPTER = /(Routes|Handler)\.ts$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/**
 * Every module a file loads: static `import … from` / `export … from`, bare `import '…'`, and
 * dynamic `import('…')` (a lazily loaded module is as much a dependency as a static one).
 */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [
    ...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm),
    ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
}

describe('layering', () => {
  it('when storage, db, events, sessions, oidc, board (and non-adapter audit, auth, backchannel) code imports, then nothing comes from src/http/', () => {
    const checked = [
      ...BELOW_HTTP.flatMap((folder) => sourceFiles(join(SRC, folder))),
      ...WITH_ADAPTERS.flatMap((folder) => sourceFiles(join(SRC, folder))).filter((file) => !HTTP_ADAPTER.test(file)),
    ];
    expect(checked.length).toBeGreaterThan(30);
    const offending = checked.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => /(^|\/)http\//.test(specifier))
        .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('when a module is loaded lazily, then the layering check sees that import too', () => {
    expect(importsOf(join(SRC, 'db/database.ts'))).toEqual(expect.arrayContaining(['./pgDatabase.js', './pgliteDatabase.js']));
  });

  it('when src/errors.ts is read, then it imports nothing (every layer may depend on it)', () => {
    expect(importsOf(join(SRC, 'errors.ts'))).toEqual([]);
  });
});
