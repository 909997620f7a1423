import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider, type TestProvider } from '../../dev/oidcProvider.js';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';
import { createLogger } from '../../src/logger.js';
import { createOidcClient } from '../../src/oidc/oidcClient.js';

/**
 * The issuer split of a compose network or a cluster: the app fetches the provider's metadata at one
 * URL (OIDC_DISCOVERY_URL, inside the network) while the issuer it expects in every token is the
 * public one. The end-to-end topology test does the same against Keycloak behind nginx.
 */
const base = { CLIENT_ID: 'board-bff', CLIENT_SECRET: 's3cret' };

describe('OIDC_DISCOVERY_URL in the configuration', () => {
  it('when it is an issuer-style URL, then the well-known suffix is added and the issuer stays the public one', () => {
    const config = loadConfig({ ...base, KEYCLOAK_URL: 'https://sso.example.com', KEYCLOAK_REALM: 'board', OIDC_DISCOVERY_URL: 'http://keycloak:8080/realms/board/' });
    expect(config.oidc.issuer).toBe('https://sso.example.com/realms/board');
    expect(config.oidc.discoveryUrl?.href).toBe('http://keycloak:8080/realms/board/.well-known/openid-configuration');
    expect(config.oidc.allowInsecureRequests).toBe(true);
  });

  it('when it already names a .well-known document, then it is used as given', () => {
    const url = 'https://internal.example/realms/board/.well-known/openid-configuration';
    const config = loadConfig({ ...base, OIDC_ISSUER: 'https://sso.example.com/realms/board', OIDC_DISCOVERY_URL: url });
    expect(config.oidc.discoveryUrl?.href).toBe(url);
    expect(config.oidc.allowInsecureRequests).toBe(false);
  });

  it('when it is unset, then discovery uses the issuer', () => {
    expect(loadConfig({ ...base, OIDC_ISSUER: 'https://sso.example.com/realms/board' }).oidc.discoveryUrl).toBeUndefined();
  });

  it('when production fetches metadata over http inside the network, then it is allowed (the issuer must still be https)', () => {
    const production = { ...base, NODE_ENV: 'production', BASE_URL: 'https://board.example.com', SESSION_SECRET: 'x'.repeat(32) };
    const config = loadConfig({ ...production, OIDC_ISSUER: 'https://sso.example.com/realms/board', OIDC_DISCOVERY_URL: 'http://keycloak.sso.svc:8080/realms/board' });
    expect(config.oidc.discoveryUrl?.hostname).toBe('keycloak.sso.svc');
  });

  it.each([
    ['not a url', /^OIDC_DISCOVERY_URL must be an absolute URL/],
    ['ftp://keycloak/realms/board', /^OIDC_DISCOVERY_URL must use http: or https:/],
    ['http://keycloak:8080/realms/board?x=1', /^OIDC_DISCOVERY_URL must not carry a query or fragment/],
    ['http://user:pw@keycloak:8080/realms/board', /^OIDC_DISCOVERY_URL must not carry a user name or password/],
  ])('when it is %s, then start-up is refused naming it', (value, message) => {
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'https://sso.example.com/realms/board', OIDC_DISCOVERY_URL: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'https://sso.example.com/realms/board', OIDC_DISCOVERY_URL: value })).toThrow(message);
  });
});

describe('discovery at a URL other than the issuer (real OpenID Provider)', () => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:9' });
  });
  afterAll(() => provider?.close());

  const oidcSettings = (issuer: string, discovery: string) =>
    loadConfig({ CLIENT_ID, CLIENT_SECRET, OIDC_ISSUER: issuer, OIDC_DISCOVERY_URL: discovery }).oidc;

  const captureLog = () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    return { log: createLogger({ level: 'warn' }, sink), lines };
  };

  it('when the metadata is fetched through another host name, then the client becomes ready and expects the public issuer', async () => {
    // The provider's issuer is http://127.0.0.1:<port>; "localhost" stands in for the network-internal name.
    const internal = provider.issuer.replace('127.0.0.1', 'localhost');
    const { log } = captureLog();
    const oidc = createOidcClient(oidcSettings(provider.issuer, internal), log);
    try {
      await oidc.whenReady();
      const metadata = oidc.configuration().serverMetadata();
      expect(metadata.issuer).toBe(provider.issuer);
      expect(oidc.issuer()).toBe(provider.issuer);
    } finally {
      oidc.stop();
    }
  });

  it('when the metadata names a different issuer than the configured one, then the client never becomes ready and says why', async () => {
    const { log, lines } = captureLog();
    const expected = `${provider.issuer}/realms/elsewhere`;
    const oidc = createOidcClient(oidcSettings(expected, provider.issuer), log);
    try {
      await expect.poll(() => lines.join(''), { timeout: 5000 }).toContain(`names the issuer ${provider.issuer}, not ${expected}`);
      expect(oidc.isReady()).toBe(false);
    } finally {
      oidc.stop();
    }
  });
});
