import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, unavailable } from '../../src/errors.js';
import { createErrorHandler } from '../../src/http/errorHandler.js';
import { createLogger } from '../../src/logger.js';

/** The one serializer: exposed errors show their code and message, everything else is a generic server_error. */
describe('error handler', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const app = express();
    const failures: Record<string, unknown> = {
      exposed: new HttpError(404, 'not_found', 'post 7 does not exist'),
      internal: new HttpError(500, 'pool_exhausted', 'pool of db-primary.internal:5432 exhausted'),
      hidden: new HttpError(400, 'parser_state', 'token 3 of the lexer', { expose: false }),
      unavailable: unavailable('Redis', new Error('ECONNREFUSED 10.0.0.7:6379')),
      unknown: new Error('SELECT * FROM users failed'),
    };
    app.get('/:case', (req, _res, next) => next(failures[req.params.case]));
    app.use(createErrorHandler(createLogger({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close?.());

  const fetchCase = async (name: string) => {
    const response = await fetch(`${url}/${name}`);
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };

  it('when an exposed HttpError is thrown, then its status, code and message are answered, with no-store', async () => {
    const { status, headers, body } = await fetchCase('exposed');
    expect(status).toBe(404);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toEqual({ error: 'not_found', error_description: 'post 7 does not exist' });
  });

  it.each(['internal', 'hidden', 'unknown'])('when a %s error is thrown, then the answer is a generic server_error that names nothing inside', async (name) => {
    const { status, body } = await fetchCase(name);
    expect(status).toBe(name === 'hidden' ? 400 : 500);
    expect(body).toEqual({ error: 'server_error', error_description: 'An internal error occurred' });
  });

  it('when a dependency is unavailable, then 503 temporarily_unavailable with Retry-After is answered, and the cause stays inside', async () => {
    const { status, headers, body } = await fetchCase('unavailable');
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('5');
    expect(body).toEqual({ error: 'temporarily_unavailable', error_description: 'Redis is unavailable; try again shortly' });
  });
});
