/**
 * The demo's log view: the BFF's JSON lines as short, readable ones. Access lines only for what a
 * person would want to see (sign-in, sign-out, back-channel logout, writes, failures); static files
 * and polling are left out. `DEMO_LOG=json` shows the raw lines instead.
 */
export function formatLogLine(line: string): string | undefined {
  let entry: Record<string, any>;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.trim() ? line : undefined;
  }
  const time = new Date(entry.time ?? Date.now()).toLocaleTimeString('en-GB');
  const level = entry.level >= 50 ? 'ERROR ' : entry.level >= 40 ? 'warn  ' : '';
  if (entry.msg === 'request completed' || entry.msg === 'request aborted') {
    const method: string = entry.req?.method ?? '';
    const url: string = entry.req?.url ?? '';
    const status: number = entry.res?.statusCode ?? 0;
    const interesting = url.startsWith('/auth/') || (url.startsWith('/api/') && method !== 'GET') || status >= 400;
    if (!interesting) return undefined;
    return `${time}  ${level}${method} ${url.replace(/\?.*$/, '')} → ${status}${entry.msg === 'request aborted' ? ' (closed)' : ''}`;
  }
  // A refused request's reason at info level: its access line above already says what happened.
  if (typeof entry.status === 'number' && entry.status < 500 && entry.level < 40) return undefined;
  const skip = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'reqId', 'service']);
  const details = Object.entries(entry)
    .filter(([key]) => !skip.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' ');
  return `${time}  ${level}${entry.msg ?? ''}${details ? `  (${details})` : ''}`;
}
