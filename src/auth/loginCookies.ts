import { parse } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';

/** Sign-in attempts a browser may have open at once; starting another expires the oldest. */
export const MAX_LOGIN_ATTEMPTS = 5;

export interface LoginCookies {
  /**
   * Sets the cookie of a new attempt (named after its `state`) and expires the oldest attempts so
   * that at most MAX_LOGIN_ATTEMPTS remain: abandoned sign-ins can never grow the Cookie header past
   * the server's 16 KiB limit.
   */
  issue(req: Request, res: Response, state: string, sealed: string, maxAgeSeconds: number): void;
  /** The sealed value of the attempt `state` (undefined if the browser has none), expired in `res`. */
  take(req: Request, res: Response, state: string): string | undefined;
}

/**
 * One cookie per attempt, so parallel tabs signing in at once both succeed (a single cookie holding
 * every attempt would lose one to the other's write). A name is `<prefix><issued ms, base36>.<first 16
 * characters of state>`: the issue time orders attempts for eviction without opening any cookie.
 */
export function createLoginCookies(prefix: string, options: CookieOptions): LoginCookies {
  const attemptsOf = (req: Request) =>
    Object.keys(readCookies(req))
      .filter((name) => name.startsWith(prefix))
      .map((name) => ({ name, issuedAt: issuedAtOf(name.slice(prefix.length)) }));
  const suffixOf = (state: string) => `.${state.slice(0, 16)}`;

  return {
    issue(req, res, state, sealed, maxAgeSeconds) {
      const older = attemptsOf(req).sort((a, b) => b.issuedAt - a.issuedAt);
      for (const { name } of older.slice(MAX_LOGIN_ATTEMPTS - 1)) res.clearCookie(name, options);
      res.cookie(`${prefix}${Date.now().toString(36)}${suffixOf(state)}`, sealed, { ...options, maxAge: maxAgeSeconds * 1000 });
    },
    take(req, res, state) {
      const cookies = readCookies(req);
      const name = Object.keys(cookies).find((candidate) => candidate.startsWith(prefix) && candidate.endsWith(suffixOf(state)));
      if (name === undefined) return undefined;
      res.clearCookie(name, options);
      return cookies[name];
    },
  };
}

/** Issue time (ms) from `<base36 ms>.<state>`; 0, the oldest, for any other name (an older release's, say). */
function issuedAtOf(rest: string): number {
  const match = /^([0-9a-z]{1,12})\./.exec(rest);
  return match ? parseInt(match[1]!, 36) : 0;
}

/** The request's cookies by name (RFC 6265 syntax, first of duplicates wins, values percent-decoded when valid). */
export function readCookies(req: Pick<Request, 'get'>): Record<string, string | undefined> {
  return parse(req.get('cookie') ?? '');
}
