/**
 * The one error type of the service. `expose` errors reach the client as
 * `{error, error_description}`; anything else becomes a generic 500 (see errorHandler).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** Per-field problems for 400s on validated input, e.g. `{ title: "must be 1-200 characters" }`. */
  readonly fields?: Record<string, string>;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    description: string,
    options: { fields?: Record<string, string>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    if (options.fields) this.fields = options.fields;
    if (options.headers) this.headers = options.headers;
  }

  get expose(): boolean {
    return this.status < 500 || this.status === 503;
  }
}

/** A peer we depend on (Redis, PostgreSQL, the OpenID Provider) did not answer: 503, retryable. */
export function unavailable(dependency: string, cause?: unknown): HttpError {
  return new HttpError(503, 'temporarily_unavailable', `${dependency} is unavailable; try again shortly`, {
    cause,
    headers: { 'Retry-After': '5' },
  });
}
