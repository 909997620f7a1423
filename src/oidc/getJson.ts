import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * GETs a JSON document from the OpenID Provider over node:http(s): its discovery metadata and its
 * JWKS, the only requests made before the replica is ready. Not `fetch`: Node's fetch is undici,
 * which loads at first use (and with it `Response`, web streams, http2, its WASM HTTP parser):
 * idle RSS after GC 80.0 → 69.1 MiB without it here (README "Performance", start-up). openid-client's
 * own requests (sign-in, refresh, logout) still go through fetch: undici loads at the first of those.
 *
 * As `fetch` with `redirect: 'manual'` and an `AbortSignal.timeout` did here: redirects are not
 * followed, and the whole exchange, body included, fails after `timeoutMs`. Resolves with the
 * parsed body of a 200 answer; rejects with a plain `Error` for any other status, a network
 * failure, a timeout or a body that is not JSON.
 */
export function getJson(url: URL, options: { accept: string; timeoutMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { headers: { accept: options.accept } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        req.destroy(new Error(`${url.href} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.once('error', fail);
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        clearTimeout(deadline);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`${url.href} answered with a body that is not JSON`));
        }
      });
    });
    const deadline = setTimeout(() => req.destroy(new Error(`${url.href} did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    deadline.unref();
    function fail(err: Error) {
      clearTimeout(deadline);
      reject(err);
    }
    req.once('error', fail);
    req.end();
  });
}
