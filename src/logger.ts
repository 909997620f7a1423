import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino replaces with "[Redacted]" wherever they appear in a log line. Request serializers
 * below already drop cookies and tokens; this is the second belt for anything logged by hand.
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
  '*.client_secret',
];

export function createLogger(options: { level: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'board-bff' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[Redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** An error in one line for a log field: name, message and code, never a stack or a response body. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code ? `${err.name}: ${err.message} (${String(code)})` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
