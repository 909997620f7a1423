import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

const minimal = { OIDC_ISSUER: 'http://127.0.0.1:8080/realms/board', CLIENT_ID: 'board-bff', CLIENT_SECRET: 's3cret' };

const problem = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
};

/** A setting that cannot mean anything stops start-up with one line, instead of being accepted silently. */
describe('settings that cannot mean anything', () => {
  it.each([
    [{ TRUST_PROXY: 'yes' }, /^TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses/],
    [{ TRUST_PROXY: 'on' }, /^TRUST_PROXY must be/],
    [{ TRUST_PROXY: 'TRUE' }, /^TRUST_PROXY must be/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY must be/],
    [{ TRUST_PROXY: '10.0.0.1,,10.0.0.2' }, /^TRUST_PROXY must be/],
    [{ TRUST_PROXY: 'nginx' }, /^TRUST_PROXY must be/],
    [{ NODE_ENV: 'prod' }, /^NODE_ENV must be one of development, production, test, got "prod"$/],
    [{ HOST: 'not a host' }, /^HOST must be an IP address or a host name/],
    [{ BASE_URL: 'https://board.example.com/bff' }, /^BASE_URL must be an origin without a path/],
    [{ BASE_URL: 'https://user:pw@board.example.com' }, /^BASE_URL must not carry a user name or password$/],
    [{ FRONTEND_URL: 'https://user:pw@app.example.com' }, /^FRONTEND_URL must not carry a user name or password$/],
    [{ FRONTEND_URL: ' , ' }, /^FRONTEND_URL must list at least one URL$/],
    [{ OIDC_ISSUER: 'https://sso.example.com/realms/board?x=1' }, /^OIDC_ISSUER must not carry a query or fragment$/],
    [{ OIDC_ID_TOKEN_ALG: 'none' }, /^OIDC_ID_TOKEN_ALG must be one of RS256, .*got "none"$/],
    [{ OIDC_ID_TOKEN_ALG: 'HS256' }, /^OIDC_ID_TOKEN_ALG must be one of/],
    [{ OIDC_ID_TOKEN_ALG: 'rs256' }, /^OIDC_ID_TOKEN_ALG must be one of/],
    [{ OIDC_SCOPES: 'profile email' }, /^OIDC_SCOPES must be space-separated scopes including "openid"/],
    [{ OIDC_SCOPES: 'openid,profile' }, /^OIDC_SCOPES must be/],
    [{ ROLES_CLAIM: 'realm_access..roles' }, /^ROLES_CLAIM must be a dotted claim path/],
    [{ SESSION_COOKIE_NAME: 'bff sid' }, /^SESSION_COOKIE_NAME must be a plain cookie name/],
    [{ SESSION_COOKIE_NAME: 'sid;' }, /^SESSION_COOKIE_NAME must be a plain cookie name/],
    [{ SESSION_COOKIE_NAME: '__Host-bff.sid' }, /^SESSION_COOKIE_NAME must be a plain cookie name/],
    [{ DATABASE_URL: 'postgres://127.0.0.1/board', PGLITE_DIR: '/var/lib/board' }, /^PGLITE_DIR has no effect when DATABASE_URL is set/],
    [{ SHUTDOWN_DELAY_SECONDS: 'soon' }, /^SHUTDOWN_DELAY_SECONDS must be a whole number/],
    [{ SHUTDOWN_GRACE_SECONDS: '-1' }, /^SHUTDOWN_GRACE_SECONDS must be between 0 and 600/],
  ])('when %o, then start-up stops with one line naming the setting', (env, message) => {
    const text = problem(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it.each([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['loopback', 'loopback'],
    ['10.0.0.0/8, 192.168.1.7', '10.0.0.0/8,192.168.1.7'],
    ['loopback,uniquelocal,::1', 'loopback,uniquelocal,::1'],
  ])('when TRUST_PROXY is %j, then Express gets %j', (raw, expected) => {
    expect(loadConfig({ ...minimal, TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it('when the settings mean something, then they are taken as given', () => {
    const config = loadConfig({
      ...minimal,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      BASE_URL: 'https://board.example.com/',
      OIDC_ID_TOKEN_ALG: 'ES256',
      OIDC_SCOPES: 'openid profile email offline_access',
      ROLES_CLAIM: 'resource_access.board-bff.roles',
      SESSION_COOKIE_NAME: 'board.sid',
      SHUTDOWN_DELAY_SECONDS: '5',
      SHUTDOWN_GRACE_SECONDS: '20',
    });
    expect(config.host).toBe('127.0.0.1');
    expect(config.oidc.idTokenAlg).toBe('ES256');
    expect(config.oidc.rolesClaim).toBe('resource_access.board-bff.roles');
    expect(config.session.cookieName).toBe('__Host-board.sid');
    expect(config.shutdown).toEqual({ delaySeconds: 5, graceSeconds: 20 });
    expect(loadConfig(minimal).shutdown).toEqual({ delaySeconds: 0, graceSeconds: 10 });
  });
});
