import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';
import { readBody } from './readBody.js';

/**
 * Reads a small `application/x-www-form-urlencoded` body (UTF-8, no content encoding) into
 * URLSearchParams, refusing anything larger than `limitBytes` before buffering it. Just what the
 * back-channel endpoint needs, on the path a logout storm takes: body-parser's general machinery
 * (charsets, inflation, qs) cost about a tenth of each logout.
 */
export async function readForm(req: IncomingMessage, limitBytes: number): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new HttpError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
  }
  const charset = /;\s*charset\s*=\s*"?([\w-]+)/i.exec(type)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new HttpError(415, 'unsupported_media_type', `Charset ${charset} is not supported; send UTF-8`);
  }
  return new URLSearchParams((await readBody(req, limitBytes)).toString('utf8'));
}
