import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

const minimal = { OIDC_ISSUER: 'http://127.0.0.1:8080/realms/board', CLIENT_ID: 'board-bff', CLIENT_SECRET: 's3cret' };

const problem = (env: Record<string, string>) => {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('Redis topology, rate-limit and audit settings', () => {
  it('when nothing names a Redis, then there is no topology (in-process twins), and the limits and retention take their defaults', () => {
    const config = loadConfig(minimal);
    expect(config.redis.topology).toBeUndefined();
    expect(config.rateLimit).toEqual({ windowSeconds: 60, login: 30, callback: 30, backchannel: 600, providerAddresses: [] });
    expect(config.audit.retentionDays).toBe(365);
    expect(config.replicaName).toMatch(/:\d+$/);
  });

  it('when REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set, then that deployment is chosen', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://127.0.0.1:6379' }).redis.topology).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({ ...minimal, REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'main' }).redis.topology).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'main',
    });
    const cluster = loadConfig({ ...minimal, REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true' });
    expect(cluster.redis.topology).toEqual({ kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] });
    expect(cluster.redis).toMatchObject({ password: 'pw', tls: true });
  });

  it.each([
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, /^REDIS_URL and REDIS_CLUSTER_NODES are exclusive/],
    [{ REDIS_SENTINELS: 'a:26379' }, /^REDIS_SENTINEL_NAME .* is required with REDIS_SENTINELS$/],
    [{ REDIS_SENTINEL_NAME: 'main' }, /^REDIS_SENTINEL_NAME needs REDIS_SENTINELS$/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, /^REDIS_CLUSTER_NODES must be a comma-separated list of host:port, got "b"$/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, /^REDIS_CLUSTER_NODES must be .* got "a:70000"$/],
    [{ REDIS_TLS: 'yes' }, /^REDIS_TLS must be true or false/],
    [{ RATE_LIMIT_PROVIDER_ADDRESSES: '10.0.0.0/8,keycloak' }, /^RATE_LIMIT_PROVIDER_ADDRESSES must list IP addresses or CIDR blocks, got "keycloak"$/],
    [{ RATE_LIMIT_PROVIDER_ADDRESSES: '10.0.0.0/33' }, /^RATE_LIMIT_PROVIDER_ADDRESSES must list/],
    [{ RATE_LIMIT_LOGIN: '-1' }, /^RATE_LIMIT_LOGIN must be between 0 and/],
    [{ AUDIT_RETENTION_DAYS: '0' }, /^AUDIT_RETENTION_DAYS must be between 1 and/],
  ])('when %o, then start-up stops with one line naming the setting', (env, message) => {
    const text = problem(env as Record<string, string>);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
});
