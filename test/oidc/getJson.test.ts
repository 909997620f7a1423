import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../../src/oidc/getJson.js';

/** The provider's documents (metadata, JWKS) as fetch with `redirect: 'manual'` and a timeout read them. */
describe('getJson', () => {
  let server: Server;
  let base: string;
  const accepts: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      accepts.push(req.headers.accept ?? '');
      if (req.url === '/doc') res.setHeader('content-type', 'application/json').end('{"issuer":"x"}');
      else if (req.url === '/moved') res.writeHead(302, { location: '/doc' }).end();
      else if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      else if (req.url === '/slow') res.writeHead(200).write('{'); // never ends
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('when the answer is 200 JSON, then it resolves with the parsed body, having sent the accept header', async () => {
    await expect(getJson(new URL(`${base}/doc`), { accept: 'application/json', timeoutMs: 2000 })).resolves.toEqual({ issuer: 'x' });
    expect(accepts.at(-1)).toBe('application/json');
  });

  it.each([
    ['a redirect (not followed)', '/moved', /\/moved answered 302$/],
    ['another status', '/missing', /\/missing answered 404$/],
    ['a body that is not JSON', '/html', /\/html answered with a body that is not JSON$/],
    ['no whole answer in time', '/slow', /\/slow did not answer within 300 ms$/],
  ])('when it is %s, then it rejects saying so', async (_case, path, message) => {
    await expect(getJson(new URL(`${base}${path}`), { accept: 'application/json', timeoutMs: 300 })).rejects.toThrow(message);
  });

  it('when nothing listens, then it rejects with the connection error', async () => {
    await expect(getJson(new URL('http://127.0.0.1:9/'), { accept: 'application/json', timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
