import { HttpError } from '../errors.js';

/** Longest resolved target accepted: it travels in the login-state cookie, which must stay small. */
export const RETURN_TO_MAX_LENGTH = 1024;

/** Percent-decoding rounds a target must survive; a path still changing after this many is refused. */
const DECODING_ROUNDS = 4;

/**
 * Judges `returnTo` (`GET /auth/login?returnTo=`) as the browser will: resolves it with the WHATWG
 * URL parser against the frontend's origin (dot segments and encoded dots removed, backslashes read
 * as slashes, tabs and newlines dropped) and accepts it only if the result is on that origin, and
 * stays there however many times a frontend router percent-decodes its path and resolves it again
 * (`/%2F%2Fhost`, `/.%2F%2Fhost`). The path may not begin with `//`: a page path that reads as a host
 * once reused as a relative reference is never a real target.
 *
 * @param value the raw query value: undefined or '' for "none", else a path starting with `/`.
 * @param frontend the first FRONTEND_URL; only its origin matters.
 * @returns the resolved absolute URL to redirect to (serialize this, never the raw value), or
 *   undefined when none was asked for.
 * @throws HttpError 400 `invalid_request` naming returnTo for anything else (absolute or scheme
 *   URLs, another origin, a repeated parameter, over RETURN_TO_MAX_LENGTH characters once resolved).
 */
export function resolveReturnTo(value: unknown, frontend: URL): URL | undefined {
  if (value === undefined || value === '') return undefined;
  const refuse = (why: string) => new HttpError(400, 'invalid_request', `returnTo ${why}`);
  if (typeof value !== 'string') throw refuse('must be given once');
  if (!value.startsWith('/') || value.length > RETURN_TO_MAX_LENGTH) {
    throw refuse(`must be a path on this site such as /posts, at most ${RETURN_TO_MAX_LENGTH} characters`);
  }
  const target = resolveOnOrigin(value, frontend.origin);
  if (!target || !staysOnOrigin(target)) throw refuse('must stay on this site once the browser resolves it');
  if (target.href.length > RETURN_TO_MAX_LENGTH) throw refuse(`is longer than ${RETURN_TO_MAX_LENGTH} characters once resolved`);
  return target;
}

/**
 * Where the callback sends the browser: the target sealed at login if it is still an absolute URL on
 * the frontend's origin (a value sealed by an older release may not be), else the frontend itself.
 */
export function afterLoginTarget(sealed: string, frontend: URL): string {
  return sealed !== '' && URL.canParse(sealed) && new URL(sealed).origin === frontend.origin ? sealed : frontend.href;
}

function resolveOnOrigin(reference: string, origin: string): URL | undefined {
  try {
    const url = new URL(reference, origin);
    return url.origin === origin && !url.pathname.startsWith('//') ? url : undefined;
  } catch {
    return undefined;
  }
}

function staysOnOrigin(target: URL): boolean {
  let path = target.pathname;
  for (let round = 0; round < DECODING_ROUNDS; round++) {
    const decoded = percentDecode(path);
    if (decoded === path) return true;
    const again = resolveOnOrigin(decoded, target.origin);
    if (!again) return false;
    if (again.pathname === path) return true; // decoding only undid the parser's own encoding ("/a%20b")
    path = again.pathname;
  }
  return false;
}

/** Like decodeURIComponent, but never throws: invalid UTF-8 becomes U+FFFD, a stray `%` stays. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}
