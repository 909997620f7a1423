import { HttpError, unavailable } from '../errors.js';

/** Socket-level failures: the server is not there, went away, or the network between us broke. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs that say "the database cannot serve you right now" rather than "your SQL is wrong":
 * connection exceptions (class 08), insufficient resources (53: too many connections, out of memory,
 * disk full), operator intervention (57: admin/crash shutdown, cannot connect now, statement timeout),
 * 28 (credentials refused: a misconfigured peer is still an unavailable peer to our clients) and
 * 3D000 (the database does not exist).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|57|28)/.test(code) || code === '3D000';
}

/**
 * Messages node-postgres and PGlite use for failures that carry no code: pool checkout timeout,
 * connect timeout, client-side query timeout, a socket closed mid-query, an ended pool or instance.
 */
const unavailableMessages = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /client was closed and is not queryable/i,
  /pglite is closed/i,
];

/** True when `err` means the database is unreachable or refusing work, not that a query is wrong. */
export function isUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof HttpError) return err.status === 503;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (networkCodes.has(code) || isUnavailableSqlState(code))) return true;
  // Node's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) fails with an AggregateError.
  if (err instanceof AggregateError && err.errors.some(isUnavailableError)) return true;
  return unavailableMessages.some((pattern) => pattern.test(err.message));
}

/**
 * The db boundary's one translation: an unreachable database becomes the 503 `unavailable` error
 * (never a 500); everything else (constraint violations, SQL bugs) passes through unchanged so the
 * repository can interpret it or the error handler can report it as the bug it is.
 */
export function translateDatabaseError(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  return isUnavailableError(err) ? unavailable('database', err) : err;
}

/** The SQLSTATE of a driver error, if it has one (both drivers put it on `.code`). */
export function sqlState(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !networkCodes.has(code) ? code : undefined;
}
