import { HttpError } from '../http/httpError.js';

const PLACEHOLDER_ORIGIN = 'http://return-to.invalid';

/**
 * Accepts only a same-origin relative path ("/posts/7?tab=comments"). Refuses what browsers would
 * read as another origin: "//evil.example", "/\\evil.example", schemes, control characters and
 * percent-encoded slashes or backslashes that a later decode could turn into one.
 */
export function parseReturnTo(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const refuse = () => new HttpError(400, 'invalid_request', 'returnTo must be a relative path on this site, such as /posts');
  if (typeof value !== 'string' || value.length > 2048) throw refuse();
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) throw refuse();
  if (/%(2f|5c)/i.test(value.slice(0, value.search(/[?#]|$/)))) throw refuse();
  const url = new URL(value, PLACEHOLDER_ORIGIN);
  if (url.origin !== PLACEHOLDER_ORIGIN) throw refuse();
  return url.pathname + url.search + url.hash;
}
