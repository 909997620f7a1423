import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/start/codeCache.js';

/** A CommonJS "bundle" whose function runs at load, so the cache made afterwards holds its compiled code. */
const bundleText = (answer: string) => `'use strict';\nfunction twice(x) { return x + x; }\nmodule.exports.answer = twice(${answer});\n`;

// The layout documented in codeCache.ts: a magic line, SHA-1 of the bundle, SHA-1 of the data, the data.
const MAGIC = Buffer.from('board-bff code cache 1\n');
const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest();

describe('the code cache (src/start/codeCache.ts)', () => {
  let dir: string;
  let cache: string;
  let loads = 0;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'board-bff-code-cache-'));
    cache = join(dir, 'main.cjs.cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Each load from a file of its own name: V8 keeps the scripts it compiled in this process (keyed by
  // text and name) and would take one from there without looking at the cached data.
  const load = (text: string) => {
    const bundle = join(dir, `main-${++loads}.cjs`);
    writeFileSync(bundle, text);
    return loadBundle(bundle, cache);
  };

  it('when no cache exists, then the bundle runs from source, and the cache it writes is accepted next time', () => {
    const first = load(bundleText('21'));
    expect(first).toMatchObject({ codeCache: 'absent', exports: { answer: 42 } });
    first.writeCodeCache();
    expect(load(bundleText('21'))).toMatchObject({ codeCache: 'accepted', exports: { answer: 42 } });
  });

  it('when the bundle changed since the cache was made (same length, which V8 alone would accept), then it runs the new text', () => {
    load(bundleText('21')).writeCodeCache();
    expect(load(bundleText('12'))).toMatchObject({ codeCache: 'stale', exports: { answer: 24 } });
  });

  it('when the cache is damaged, truncated or not a cache at all, then the bundle runs from source', () => {
    load(bundleText('21')).writeCodeCache();
    const good = readFileSync(cache);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff;
    for (const bad of [flipped, good.subarray(0, good.length - 100), good.subarray(0, 30), Buffer.from('garbage')]) {
      writeFileSync(cache, bad);
      expect(load(bundleText('21'))).toMatchObject({ codeCache: 'corrupt', exports: { answer: 42 } });
    }
  });

  it('when V8 refuses the cached data (made for other code, by another V8 or under other flags), then the bundle runs from source', () => {
    load(`${bundleText('21')}// a longer text\n`).writeCodeCache();
    const data = readFileSync(cache).subarray(MAGIC.length + 40);
    const text = bundleText('21');
    // Well-formed and bound to this text, so only V8's own check can refuse it.
    writeFileSync(cache, Buffer.concat([MAGIC, sha1(text), sha1(data), data]));
    expect(load(text)).toMatchObject({ codeCache: 'rejected', exports: { answer: 42 } });
  });
});
