import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { serverStderr } from '../support/tsxStderr.js';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

const minimal = { OIDC_ISSUER: 'http://127.0.0.1:8080/realms/board', CLIENT_ID: 'board-bff', CLIENT_SECRET: 's3cret' };
const production = {
  ...minimal,
  NODE_ENV: 'production',
  OIDC_ISSUER: 'https://sso.example.com/realms/board',
  BASE_URL: 'https://board.example.com',
  SESSION_SECRET: 'x'.repeat(32),
};

const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('when only the required settings are given, then the documented defaults apply', () => {
    const config = loadConfig(minimal);
    expect(config.port).toBe(3001);
    expect(config.baseUrl.href).toBe('http://localhost:3001/');
    expect(config.frontendUrls.map(String)).toEqual(['http://localhost:3001/']);
    expect(config.session.cookieName).toBe('bff.sid');
    expect(config.session.secureCookie).toBe(false);
    expect(config.session.secretGenerated).toBe(true);
    expect(config.redis.url).toBeUndefined();
    expect(config.sse.heartbeatSeconds).toBe(15);
    expect(config.session.livenessIntervalSeconds).toBe(60);
    expect(config.board.moderatorRole).toBe('board-admin');
  });

  it('when KEYCLOAK_URL and KEYCLOAK_REALM are given, then the issuer is built from them', () => {
    const config = loadConfig({ KEYCLOAK_URL: 'https://sso.example.com/', KEYCLOAK_REALM: 'board', CLIENT_ID: 'c', CLIENT_SECRET: 's' });
    expect(config.oidc.issuer).toBe('https://sso.example.com/realms/board');
  });

  it('when FRONTEND_URL lists several origins, then all are allowed and the first is the default target', () => {
    const config = loadConfig({ ...minimal, FRONTEND_URL: 'http://localhost:3000, https://app.example.com' });
    expect(config.frontendUrls[0]!.href).toBe('http://localhost:3000/');
    expect(config.allowedOrigins).toEqual(['http://localhost:3001', 'http://localhost:3000', 'https://app.example.com']);
  });

  it('when BASE_URL is https, then cookies are Secure and __Host- prefixed', () => {
    const config = loadConfig({ ...minimal, BASE_URL: 'https://board.example.com' });
    expect(config.session.secureCookie).toBe(true);
    expect(config.session.cookieName).toBe('__Host-bff.sid');
  });

  it.each([
    [{ CLIENT_ID: '' }, /^CLIENT_ID is required$/],
    [{ CLIENT_SECRET: undefined }, /^CLIENT_SECRET is required$/],
    [{ OIDC_ISSUER: undefined }, /OIDC_ISSUER \(or KEYCLOAK_URL and KEYCLOAK_REALM\) is required/],
    [{ OIDC_ISSUER: 'not a url' }, /^OIDC_ISSUER must be an absolute URL/],
    [{ PORT: 'eighty' }, /^PORT must be a whole number, got "eighty"$/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, /^REDIS_URL must use redis: or rediss:/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must use postgres: or postgresql:/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ SESSION_IDLE_SECONDS: '7200', SESSION_ABSOLUTE_SECONDS: '3600' }, /SESSION_ABSOLUTE_SECONDS \(3600\) must not be shorter/],
    [{ KEYCLOAK_URL: 'https://sso.example.com', OIDC_ISSUER: undefined }, /^KEYCLOAK_REALM is required with KEYCLOAK_URL/],
  ])('when %o, then start-up stops with one line naming the setting', (override, message) => {
    const text = problem({ ...minimal, ...override } as Record<string, string>);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it.each([
    [{ SESSION_SECRET: undefined }, /^SESSION_SECRET is required in production$/],
    [{ SESSION_SECRET: 'short' }, /^SESSION_SECRET must be at least 32 characters/],
    [{ SESSION_SECRET: `${'y'.repeat(32)},short` }, /^SESSION_SECRET must be at least 32 characters/],
    [{ OIDC_ISSUER: 'http://sso.example.com/realms/board' }, /^OIDC_ISSUER must use https in production/],
    [{ BASE_URL: 'http://board.example.com' }, /^BASE_URL must use https in production/],
  ])('when production has %o, then start-up is refused', (override, message) => {
    expect(problem({ ...production, ...override } as Record<string, string>)).toMatch(message);
  });

  it('when production uses an http issuer on loopback, then it is allowed', () => {
    expect(loadConfig({ ...production, OIDC_ISSUER: 'http://127.0.0.1:8080/realms/board' }).oidc.allowInsecureRequests).toBe(true);
  });

  it('when the server starts with a bad setting, then it prints one line and exits 1', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, ...minimal, PORT: 'x' },
      timeout: 20_000,
    });
    const failure = await run.then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failure?.code).toBe(1);
    expect(serverStderr(failure?.stderr ?? '').trim()).toBe('board-bff: configuration error: PORT must be a whole number, got "x"');
  });
});
