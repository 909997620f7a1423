import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { constants, Script } from 'node:vm';

/**
 * What became of the code cache at start-up: `accepted` (V8 took it), `absent` (no file), `stale`
 * (made for another bundle), `corrupt` (damaged or truncated), `rejected` (V8 refused it: another
 * Node/V8 version or other V8 flags). Every state but `accepted` compiles the bundle from source.
 */
export type CodeCacheStatus = 'accepted' | 'absent' | 'stale' | 'corrupt' | 'rejected';

export interface LoadedBundle {
  /** The bundle's `module.exports`. */
  exports: Record<string, unknown>;
  codeCache: CodeCacheStatus;
  /**
   * Writes V8's code for the bundle as compiled so far (functions compiled lazily since the start
   * included) to `cacheFile`, bound to this bundle's text. Atomic (written beside, then renamed);
   * throws what writing throws (the build's run only).
   */
  writeCodeCache(): void;
}

// The file: this header, then V8's cached data. The digests bind the cache to the exact bundle text
// (V8 itself checks only the source's length, its version and its flags) and catch a damaged or
// truncated file (V8 release builds do not checksum cached data). Integrity, not secrecy: whoever can
// write the cache can write the bundle. SHA-1: ~2 ms for bundle and cache at load ~11; SHA-256
// took 2-40 ms in the same runs.
const MAGIC = Buffer.from('board-bff code cache 1\n');
const DIGEST = 'sha1';
const DIGEST_BYTES = 20;
const HEADER_BYTES = MAGIC.length + 2 * DIGEST_BYTES;

// The parameters Node gives a CommonJS module; the bundle's text starts on the line after.
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {\n';

/**
 * Runs the CommonJS bundle `file` (what scripts/buildServer.ts makes of src/main.ts) as Node would
 * run a CommonJS module, compiled with the code cache in `cacheFile` when that file was made for
 * exactly this bundle by the same Node version with the same V8 flags; from source otherwise (see
 * `codeCache`). Never throws for the cache's sake; throws what reading or running the bundle throws.
 */
export function loadBundle(file: string, cacheFile: string): LoadedBundle {
  const bytes = readFileSync(file);
  // The digest of the bytes read: hashing the decoded text would encode its 1.5 MB to UTF-8 again.
  const sourceDigest = digest(bytes);
  const source = bytes.toString('utf8');
  const cache = readCache(cacheFile, sourceDigest);
  const script = new Script(`${WRAPPER}${source}\n})`, {
    filename: file,
    lineOffset: -1,
    // import() inside the bundle (rate-limiter-flexible's optional drizzle store, never used here) as
    // from a module; vm.constants is Node ≥ 20.12, and on older Node such an import() rejects.
    importModuleDynamically: constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cache.data ? { cachedData: cache.data } : {}),
  });
  const codeCache: CodeCacheStatus = cache.data && script.cachedDataRejected ? 'rejected' : cache.status;
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    codeCache,
    writeCodeCache() {
      const data = script.createCachedData();
      const partial = `${cacheFile}.${process.pid}.partial`;
      writeFileSync(partial, Buffer.concat([MAGIC, sourceDigest, digest(data), data]));
      renameSync(partial, cacheFile);
    },
  };
}

function readCache(cacheFile: string, sourceDigest: Buffer): { status: CodeCacheStatus; data?: Buffer } {
  let file: Buffer;
  try {
    file = readFileSync(cacheFile);
  } catch {
    return { status: 'absent' };
  }
  if (file.length <= HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return { status: 'corrupt' };
  const data = file.subarray(HEADER_BYTES);
  if (!digest(data).equals(file.subarray(MAGIC.length + DIGEST_BYTES, HEADER_BYTES))) return { status: 'corrupt' };
  if (!sourceDigest.equals(file.subarray(MAGIC.length, MAGIC.length + DIGEST_BYTES))) return { status: 'stale' };
  return { status: 'accepted', data };
}

function digest(data: Buffer): Buffer {
  return createHash(DIGEST).update(data).digest();
}
