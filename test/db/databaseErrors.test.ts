import { describe, expect, it } from 'vitest';
import { isUnavailableError, translateDatabaseError } from '../../src/db/databaseErrors.js';
import { HttpError } from '../../src/errors.js';

const withCode = (code: string, message = 'driver error') => Object.assign(new Error(message), { code });

describe('database error translation', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['reset', withCode('ECONNRESET')],
    ['admin shutdown', withCode('57P01')],
    ['cannot connect now', withCode('57P03')],
    ['statement timeout', withCode('57014')],
    ['too many connections', withCode('53300')],
    ['connection exception', withCode('08006')],
    ['bad password', withCode('28P01')],
    ['missing database', withCode('3D000')],
    ['pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['socket closed', new Error('Connection terminated unexpectedly')],
    ['happy eyeballs', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed')],
  ])('when the failure is %s, then it is a 503 unavailable', (_name, err) => {
    const translated = translateDatabaseError(err);

    expect(isUnavailableError(err)).toBe(true);
    expect(translated).toBeInstanceOf(HttpError);
    expect(translated).toMatchObject({ status: 503, code: 'temporarily_unavailable', cause: err });
  });

  it.each([
    ['syntax error', withCode('42601')],
    ['unique violation', withCode('23505')],
    ['foreign key violation', withCode('23503')],
    ['check violation', withCode('23514')],
    ['plain bug', new TypeError('x is undefined')],
  ])('when the failure is a %s, then it passes through unchanged', (_name, err) => {
    expect(translateDatabaseError(err)).toBe(err);
  });
});
