import { HttpError } from '../errors.js';

/** The board's input limits (characters are Unicode code points, counted after trimming). */
export const boardLimits = {
  titleMax: 200,
  postBodyMax: 20_000,
  commentBodyMax: 5_000,
  pageSizeDefault: 20,
  pageSizeMax: 100,
} as const;

export interface NewPost {
  title: string;
  body: string;
}
export type PostPatch = Partial<NewPost>;
export interface CommentInput {
  body: string;
}
export interface PageRequest {
  limit: number;
  /** Return posts older than this id (decoded from the opaque cursor). */
  beforeId: number | undefined;
}

type Fields = Record<string, string>;

function invalid(fields: Fields): HttpError {
  const description = Object.entries(fields)
    .map(([field, problem]) => `${field} ${problem}`)
    .join('; ');
  return new HttpError(400, 'invalid_request', description, { fields });
}

/** A path or query id: a positive integer that fits both a JS number and a bigint column. */
export function parseId(raw: unknown, field = 'id'): number {
  if (typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw)) {
    const id = Number(raw);
    if (Number.isSafeInteger(id)) return id;
  }
  throw invalid({ [field]: 'must be a positive integer' });
}

/** `?limit=&cursor=`; other query parameters (cache busters) are ignored. */
export function parsePageRequest(query: Record<string, unknown>): PageRequest {
  const fields: Fields = {};
  let limit: number = boardLimits.pageSizeDefault;
  if (query.limit !== undefined) {
    const raw = query.limit;
    const value = typeof raw === 'string' && /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
    if (value >= 1 && value <= boardLimits.pageSizeMax) limit = value;
    else fields.limit = `must be an integer from 1 to ${boardLimits.pageSizeMax}`;
  }
  let beforeId: number | undefined;
  if (query.cursor !== undefined) {
    beforeId = typeof query.cursor === 'string' ? decodeCursor(query.cursor) : undefined;
    if (beforeId === undefined) fields.cursor = 'must be a nextCursor value returned by this API';
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { limit, beforeId };
}

/**
 * Cursors are opaque to clients (so the ordering key can change without breaking them); today one
 * carries the id of the last post on the previous page.
 */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`p${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(cursor)) return undefined;
  const match = /^p([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(id) ? id : undefined;
}

export function parseNewPost(body: unknown): NewPost {
  const input = objectWithKeys(body, ['title', 'body']);
  const fields: Fields = {};
  const title = text(input, 'title', boardLimits.titleMax, fields, true);
  const postBody = text(input, 'body', boardLimits.postBodyMax, fields, true);
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { title: title!, body: postBody! };
}

export function parsePostPatch(body: unknown): PostPatch {
  const input = objectWithKeys(body, ['title', 'body']);
  const fields: Fields = {};
  const title = text(input, 'title', boardLimits.titleMax, fields, false);
  const postBody = text(input, 'body', boardLimits.postBodyMax, fields, false);
  if (Object.keys(fields).length > 0) throw invalid(fields);
  if (title === undefined && postBody === undefined) {
    throw new HttpError(400, 'invalid_request', 'send at least one of title, body', {
      fields: { title: 'or body is required' },
    });
  }
  return { ...(title !== undefined && { title }), ...(postBody !== undefined && { body: postBody }) };
}

export function parseComment(body: unknown): CommentInput {
  const input = objectWithKeys(body, ['body']);
  const fields: Fields = {};
  const commentBody = text(input, 'body', boardLimits.commentBodyMax, fields, true);
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { body: commentBody! };
}

/** Unknown keys are refused (named in `fields`): a misspelt optional field must not be silently dropped. */
function objectWithKeys(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request', 'the request body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw invalid(Object.fromEntries(unknown.map((key) => [key, `is not a known field (allowed: ${allowed.join(', ')})`])));
  }
  return body as Record<string, unknown>;
}

/** Trimmed text of 1..max code points without NUL (PostgreSQL text cannot hold it); records problems in `fields`. */
function text(input: Record<string, unknown>, field: string, max: number, fields: Fields, required: boolean): string | undefined {
  const raw = input[field];
  if (raw === undefined) {
    if (required) fields[field] = 'is required';
    return undefined;
  }
  if (typeof raw !== 'string') {
    fields[field] = 'must be a string';
    return undefined;
  }
  const value = raw.trim();
  const length = [...value].length;
  if (length < 1 || length > max) {
    fields[field] = `must be 1 to ${max} characters after trimming (got ${length})`;
    return undefined;
  }
  if (value.includes('\u0000')) {
    fields[field] = 'must not contain NUL characters';
    return undefined;
  }
  return value;
}
