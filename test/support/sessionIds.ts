import type { UserAgent } from './userAgent.js';

/** The session id inside a signed express-session cookie ("s:<id>.<signature>"). */
export function sessionIdOf(agent: UserAgent, url: string, cookieName = 'bff.sid'): string {
  const value = agent.cookie(url, cookieName);
  if (!value) throw new Error(`no ${cookieName} cookie for ${url}`);
  return decodeURIComponent(value).slice(2).split('.')[0]!;
}
