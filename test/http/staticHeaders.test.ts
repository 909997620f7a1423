import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { staticHeaders } from '../../src/http/staticHeaders.js';

async function headersFrom(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use(middleware);
  app.get('/x', (_req, res) => void res.json({ ok: true }));
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    const headers = Object.fromEntries(response.headers);
    delete headers.date;
    return headers;
  } finally {
    server.close();
  }
}

describe('staticHeaders', () => {
  it('when helmet is replayed, then a response carries exactly the headers helmet itself sets', async () => {
    const options = { crossOriginResourcePolicy: { policy: 'same-site' as const } };
    const replayed = await headersFrom(staticHeaders(helmet(options)));
    expect(replayed).toEqual(await headersFrom(helmet(options)));
    expect(replayed['content-security-policy']).toContain("default-src 'self'");
    expect(replayed['x-powered-by']).toBeUndefined();
  });

  it('when a middleware does not finish synchronously, then start-up fails', () => {
    expect(() => staticHeaders((_req, _res, next) => void setTimeout(next, 1))).toThrow(/synchronously/);
  });
});
