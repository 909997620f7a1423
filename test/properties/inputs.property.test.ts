import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { serialize } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLoginCookies, MAX_LOGIN_ATTEMPTS, readCookies } from '../../src/auth/loginCookies.js';
import { RETURN_TO_MAX_LENGTH, resolveReturnTo } from '../../src/auth/returnTo.js';
import {
  boardLimits,
  decodeCursor,
  encodeCursor,
  parseComment,
  parseId,
  parseNewPost,
  parsePageRequest,
  parsePostPatch,
} from '../../src/board/boardInput.js';
import { HttpError } from '../../src/errors.js';
import { describeError } from '../../src/logger.js';
import { readForm } from '../../src/backchannel/readForm.js';

/** Runs `fn`; returns its result, or the HttpError it threw; anything else thrown fails the property. */
function resultOr400<T>(fn: () => T): T | HttpError {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return err as HttpError;
  }
}

describe('returnTo resolution (property-based)', () => {
  const frontend = new URL('https://app.example.test/board/');
  /** Strings built from the pieces open-redirect attempts are made of. */
  const hostile = fc
    .array(
      fc.constantFrom(
        '/', '//', '\\', '.', '..', '%2e', '%2E', '%2f', '%2F', '%5c', '%5C', '%09', '%0a', '%00', '%25', '%', '\t', '\n', '\r', ' ',
        '\u0000', '\u001f', '\u00a0', '@', ':', '?', '#', ';', 'evil.example', 'app.example.test', 'https:', 'http:', 'javascript:', 'a', 'é',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));
  const anything = fc.oneof(hostile, fc.string(), fc.string({ unit: 'binary' }), fc.webUrl(), fc.webPath());

  /** What a router that percent-decodes the path and resolves it again would reach. */
  const afterDecoding = (url: URL): URL[] => {
    const reached = [url];
    let path = url.pathname;
    for (let i = 0; i < 4; i++) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        break;
      }
      const next = new URL(decoded, url.origin);
      reached.push(next);
      if (next.pathname === path) break;
      path = next.pathname;
    }
    return reached;
  };

  it('any string is either refused with a 400 or resolved to the frontend origin, also after a router decodes it', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const result = resultOr400(() => resolveReturnTo(value, frontend));
        if (result instanceof HttpError) {
          expect(result.message).toContain('returnTo');
          return;
        }
        if (result === undefined) {
          expect(value).toBe('');
          return;
        }
        // The browser follows the serialized Location, resolved against any page.
        const followed = new URL(result.href, 'https://bff.example.test/auth/callback');
        expect(followed.origin).toBe(frontend.origin);
        expect(followed.href).toBe(result.href);
        expect(result.href.length).toBeLessThanOrEqual(RETURN_TO_MAX_LENGTH);
        for (const reached of afterDecoding(result)) {
          expect(reached.origin).toBe(frontend.origin);
          expect(reached.pathname.startsWith('//')).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('any plain site path is accepted unchanged', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 0, maxLength: 6 }), fc.option(segment), (segments, query) => {
        const path = `/${segments.join('/')}${query ? `?q=${query}` : ''}`;
        expect(resolveReturnTo(path, frontend)?.href).toBe(`${frontend.origin}${path}`);
      }),
    );
  });

  it('anything that is not a string (a repeated or nested parameter) is refused', () => {
    fc.assert(
      fc.property(fc.anything().filter((v) => typeof v !== 'string' && v !== undefined), (value) => {
        expect(resultOr400(() => resolveReturnTo(value, frontend))).toBeInstanceOf(HttpError);
      }),
    );
  });
});

describe('board input (property-based)', () => {
  const body = fc.oneof(
    fc.anything(),
    fc.record({ title: fc.anything(), body: fc.anything() }, { requiredKeys: [] }),
    fc.record({ title: fc.string({ unit: 'binary', maxLength: 260 }), body: fc.string({ unit: 'binary', maxLength: 300 }) }, { requiredKeys: [] }),
    fc.dictionary(fc.string(), fc.anything()),
    fc.constant(JSON.parse('{"__proto__": {"title": "x"}, "body": "y"}')),
  );
  const acceptableText = (value: unknown, max: number) =>
    typeof value === 'string' && value === value.trim() && [...value].length >= 1 && [...value].length <= max && !value.includes('\u0000');

  it('parsers return only trimmed text within the limits, or throw a 400 naming fields; nothing else', () => {
    fc.assert(
      fc.property(body, (input) => {
        const post = resultOr400(() => parseNewPost(input));
        if (!(post instanceof HttpError)) {
          expect(Object.keys(post).sort()).toEqual(['body', 'title']);
          expect(acceptableText(post.title, boardLimits.titleMax)).toBe(true);
          expect(acceptableText(post.body, boardLimits.postBodyMax)).toBe(true);
        }
        const patch = resultOr400(() => parsePostPatch(input));
        if (!(patch instanceof HttpError)) {
          expect(Object.keys(patch).length).toBeGreaterThan(0);
          if (patch.title !== undefined) expect(acceptableText(patch.title, boardLimits.titleMax)).toBe(true);
          if (patch.body !== undefined) expect(acceptableText(patch.body, boardLimits.postBodyMax)).toBe(true);
        }
        const comment = resultOr400(() => parseComment(input));
        if (!(comment instanceof HttpError)) expect(acceptableText(comment.body, boardLimits.commentBodyMax)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('ids are positive safe integers or a 400; cursors round-trip and decode to ids or nothing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.stringMatching(/^[0-9]{1,20}$/)), (raw) => {
        const id = resultOr400(() => parseId(raw));
        if (!(id instanceof HttpError)) {
          expect(Number.isSafeInteger(id) && id > 0).toBe(true);
          expect(String(id)).toBe(raw);
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String()), (cursor) => {
        const id = decodeCursor(cursor);
        if (id !== undefined) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('a page request has a limit of 1 to 100 and a safe cursor, or is a 400', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('limit', 'cursor', 'x'), fc.oneof(fc.anything(), fc.string(), fc.nat().map(String))), (query) => {
        const page = resultOr400(() => parsePageRequest(query));
        if (page instanceof HttpError) return;
        expect(page.limit).toBeGreaterThanOrEqual(1);
        expect(page.limit).toBeLessThanOrEqual(boardLimits.pageSizeMax);
        if (page.beforeId !== undefined) expect(Number.isSafeInteger(page.beforeId) && page.beforeId > 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the form reader (property-based)', () => {
  const request = (chunks: Buffer[], headers: Record<string, string>) =>
    Object.assign(Readable.from(chunks), { headers }) as unknown as IncomingMessage;
  const chunked = (bytes: Uint8Array, cuts: number[]) => {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const to of [...points, bytes.length]) {
      if (to > from) chunks.push(Buffer.from(bytes.subarray(from, to)));
      from = to;
    }
    return chunks;
  };
  const contentType = fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=UTF-8',
      'Application/X-WWW-Form-Urlencoded;charset="utf-8"',
      'application/x-www-form-urlencoded; charset=latin1',
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
    ),
    fc.string(),
  );

  it('any body and headers give parameters, or a 400, 413 or 415: never another error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        contentType,
        fc.option(fc.constantFrom('gzip', 'identity', 'br', 'x')),
        fc.option(fc.oneof(fc.nat({ max: 2000 }).map(String), fc.string())),
        async (bytes, cuts, type, encoding, length) => {
          const headers: Record<string, string> = { 'content-type': type };
          if (encoding) headers['content-encoding'] = encoding;
          if (length !== null) headers['content-length'] = length;
          try {
            const form = await readForm(request(chunked(bytes, cuts), headers), 512);
            expect(form).toBeInstanceOf(URLSearchParams);
            expect(bytes.length).toBeLessThanOrEqual(512);
          } catch (err) {
            expect(err).toBeInstanceOf(HttpError);
            expect([400, 413, 415]).toContain((err as HttpError).status);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('any fields, however split into chunks, read back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), async (pairs, cuts) => {
        const bytes = Buffer.from(new URLSearchParams(pairs).toString());
        fc.pre(bytes.length <= 4096);
        const form = await readForm(request(chunked(bytes, cuts), { 'content-type': 'application/x-www-form-urlencoded' }), 4096);
        // Lone surrogates cannot survive UTF-8: compare with what UTF-8 makes of them.
        const utf8 = (s: string) => Buffer.from(s).toString('utf8');
        expect([...form]).toEqual(pairs.map(([k, v]) => [utf8(k), utf8(v)]));
      }),
      { numRuns: 500 },
    );
  });
});

describe('cookie parsing and login-state cookies (property-based)', () => {
  const name = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/);
  const request = (header: string) => ({ get: ((field: string) => (field.toLowerCase() === 'cookie' ? header : undefined)) as never });

  it('any Cookie header parses without throwing into string values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.string()).map((parts) => parts.join('; '))), (header) => {
        for (const [key, value] of Object.entries(readCookies(request(header)))) {
          expect(typeof key).toBe('string');
          expect(typeof value).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('cookies serialized by the library read back exactly, the first of duplicates winning', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string()), { maxLength: 10 }), (pairs) => {
        const parsed = readCookies(request(pairs.map(([k, v]) => serialize(k, v)).join('; ')));
        const expected = new Map<string, string>();
        for (const [k, v] of pairs) if (!expected.has(k)) expected.set(k, v);
        for (const [k, v] of expected) if (k !== '__proto__') expect(parsed[k]).toBe(v);
      }),
    );
  });

  it('whatever cookies a browser holds and however often it starts a sign-in, at most MAX_LOGIN_ATTEMPTS login-state cookies remain, the newest among them', () => {
    const prefix = 'bff.auth.';
    fc.assert(
      fc.property(
        fc.array(fc.oneof(name, name.map((n) => prefix + n)), { maxLength: 30 }),
        fc.array(fc.stringMatching(/^[\w-]{16,43}$/), { minLength: 1, maxLength: 20 }),
        (initial, states) => {
          const jar = new Map<string, string>(initial.map((n) => [n, 'v']));
          let clock = 1_700_000_000_000;
          const realNow = Date.now;
          Date.now = () => (clock += 1000);
          try {
            const cookies = createLoginCookies(prefix, { path: '/' });
            for (const state of states) {
              const header = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
              const res = {
                cookie: (k: string, v: string) => jar.set(k, v),
                clearCookie: (k: string) => jar.delete(k),
              };
              cookies.issue(request(header) as never, res as never, state, `sealed-${state}`, 600);
              const attempts = [...jar.keys()].filter((k) => k.startsWith(prefix));
              expect(attempts.length).toBeLessThanOrEqual(MAX_LOGIN_ATTEMPTS);
              expect([...jar.values()]).toContain(`sealed-${state}`);
            }
          } finally {
            Date.now = realNow;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the error describer (property-based)', () => {
  it('keeps only name, message and code, for any thrown value, and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ message: fc.string({ maxLength: 500 }), name: fc.anything(), code: fc.anything(), command: fc.anything() })), (thrown) => {
        const described = describeError(thrown);
        expect(Object.keys(described).every((key) => ['name', 'message', 'code'].includes(key))).toBe(true);
        expect(described.message.length).toBeLessThanOrEqual(301);
        expect(describeError(described)).toEqual(described);
      }),
      { numRuns: 1000 },
    );
  });
});
