import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino replaces with "[Redacted]" wherever they appear in a log line. The access log
 * (http/requestLogger.ts) writes only known-safe fields and skips this pass; it is the second belt
 * for anything logged by hand.
 */
const redactPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.cookie',
  '*.authorization',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.logout_token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.code_verifier',
  '*.sessionId',
  '*.sid',
  '*.providerSid',
  '*.client_secret',
];

export function createLogger(options: { level: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'board-bff' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[Redacted]' },
      // Any `err` field (and an Error passed as the first argument) goes through the describer, so a
      // call that forgets it still logs no command arguments, response bodies or rows.
      serializers: { err: describeError },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** What a log line may say about an error. */
export interface ErrorDescription {
  name: string;
  message: string;
  code?: string;
}

const MESSAGE_MAX = 300;

/**
 * The one way errors reach a log line: name, message (at most 300 characters) and code, nothing
 * else. Library errors carry more than they show: ioredis attaches the failing command with its
 * arguments (session records, tokens included), HTTP clients the response body, pg the row.
 * Anything with a string `message` (an Error, or a description already made: this is idempotent,
 * as the logger applies it again to every `err` field) keeps those three fields; any other thrown
 * value is described by its type only, since it may be anything.
 */
export function describeError(err: unknown): ErrorDescription {
  const { name, message, code } = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  if (typeof message !== 'string') return { name: 'NonError', message: `a thrown ${err === null ? 'null' : typeof err}` };
  const description: ErrorDescription = {
    name: typeof name === 'string' ? name : 'Error',
    message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message,
  };
  if (typeof code === 'string' || typeof code === 'number') description.code = String(code);
  return description;
}
