/**
 * The API's error codes a client acts on (the BFF may add others; `code` stays a string).
 * `network_error` is the client's own: the request never got an HTTP answer.
 */
export type BoardErrorCode =
  | 'unauthenticated'
  | 'session_revoked'
  | 'csrf_rejected'
  | 'invalid_request'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'temporarily_unavailable'
  | 'network_error'
  | (string & {});

/**
 * The one error type of the client: every failed call rejects with it. `status` is the HTTP status
 * (0 for `network_error`), `code` and `description` come from the API's
 * `{"error", "error_description"}` body, `fields` from a 400 that names invalid fields.
 */
export class BoardApiError extends Error {
  override readonly name = 'BoardApiError';
  constructor(
    readonly status: number,
    readonly code: BoardErrorCode,
    readonly description: string,
    readonly fields?: Record<string, string>,
  ) {
    super(`${code}: ${description}`);
  }

  /** True when signing in again is the only way forward (no session, or one that was ended). */
  get needsSignIn(): boolean {
    return this.status === 401;
  }
}

/** Builds the error from a non-2xx response, whatever its body (JSON error, HTML from a proxy, nothing). */
export async function errorFromResponse(response: Response): Promise<BoardApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof data.error === 'string' ? data.error : `http_${response.status}`;
  const description = typeof data.error_description === 'string' ? data.error_description : response.statusText || `HTTP ${response.status}`;
  const fields = isStringRecord(data.fields) ? data.fields : undefined;
  return new BoardApiError(response.status, code, description, fields);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}
