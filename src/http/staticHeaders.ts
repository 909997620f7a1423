import type { RequestHandler } from 'express';

export type HeaderValue = string | number | readonly string[];
export type StaticHeaders = RequestHandler & { readonly headers: ReadonlyArray<readonly [string, HeaderValue]> };

/**
 * A header-setting middleware run once at start-up and replayed: `middleware` (here helmet, with
 * no per-request directive such as a CSP nonce) sets the same headers on every response through a
 * chain of a dozen small middleware; replaying its result sets them in one loop. helmet stays the
 * authority on what is sent (a new helmet version changes the output here too). Measured with
 * test/bench/staticHeaders.ts: see the README "Performance" section.
 * Throws at start-up if `middleware` does not finish synchronously or depends on the request.
 * `headers`: what it sets, in its order, for a route served before Express that writes its head in
 * one call (what it removes, `X-Powered-By`, such a route never sets).
 */
export function staticHeaders(middleware: RequestHandler): StaticHeaders {
  const set = new Map<string, HeaderValue>();
  const removed = new Set<string>();
  const res = {
    setHeader(name: string, value: HeaderValue) {
      set.set(name, value);
      removed.delete(name.toLowerCase());
      return res;
    },
    removeHeader(name: string) {
      set.delete(name);
      removed.add(name.toLowerCase());
    },
    getHeader: (name: string) => set.get(name),
  };
  let finished = false;
  let failure: unknown;
  middleware({ method: 'GET', url: '/', headers: {} } as never, res as never, (err?: unknown) => {
    finished = true;
    failure = err;
  });
  if (!finished || failure) throw new Error('staticHeaders: the middleware did not finish synchronously without error');
  const headers = [...set];
  const removals = [...removed];
  const replay: RequestHandler = (_req, response, next) => {
    for (const [name, value] of headers) response.setHeader(name, value);
    for (const name of removals) response.removeHeader(name);
    next();
  };
  return Object.assign(replay, { headers });
}
