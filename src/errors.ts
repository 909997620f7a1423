/**
 * The one error type of the service, known to every layer (storage, domain and HTTP alike) and
 * serialized in one place, `http/errorHandler.ts`: an `expose`d error reaches the client as
 * `{error: code, error_description: message}`; anything else becomes a generic 500 `server_error`.
 * `expose` defaults to `status < 500`; `unavailable()` exposes its 503, which tells the client to retry.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  /** Per-field problems for 400s on validated input, e.g. `{ title: "must be 1-200 characters" }`. */
  readonly fields?: Record<string, string>;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    description: string,
    options: { fields?: Record<string, string>; headers?: Record<string, string>; expose?: boolean; cause?: unknown } = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    if (options.fields) this.fields = options.fields;
    if (options.headers) this.headers = options.headers;
  }
}

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '5';

/**
 * The one way to answer 503: a peer we depend on (Redis, PostgreSQL, the OpenID Provider) did not
 * answer. `temporarily_unavailable` with `Retry-After`, exposed so the client knows to retry.
 * `description` defaults to "<dependency> is unavailable; try again shortly".
 */
export function unavailable(dependency: string, cause?: unknown, description = `${dependency} is unavailable; try again shortly`): HttpError {
  return new HttpError(503, 'temporarily_unavailable', description, {
    cause,
    expose: true,
    headers: { 'Retry-After': RETRY_AFTER_SECONDS },
  });
}
