import * as client from 'openid-client';
import type { JWTVerifyGetKey } from 'jose';
import { unavailable } from '../errors.js';
import type { Config } from '../config/loadConfig.js';
import { metadataUrl as metadataUrlOf } from '../config/oidcConfig.js';
import { describeError, type Logger } from '../logger.js';
import { createClockSkewMonitor } from './clockSkew.js';
import { getJson } from './getJson.js';
import { createSigningKeys } from './signingKeys.js';

/**
 * The relying party's view of the provider: discovery runs at start-up and is retried with backoff
 * until it succeeds; until then `/readyz` says not ready and sign-in answers 503.
 */
export interface OidcClient {
  /** The issuer as its metadata names it (the `iss` its tokens carry); throws 503 while discovery has not succeeded. */
  issuer(): string;
  isReady(): boolean;
  /** Resolves after the first successful discovery. */
  whenReady(): Promise<void>;
  /** The openid-client configuration; throws 503 while discovery has not succeeded. */
  configuration(): client.Configuration;
  /** Keys for logout tokens and admin actions: the issuer's `jwks_uri`, cached, refetched on an unknown `kid` (see createSigningKeys). */
  signingKeys(): JWTVerifyGetKey;
  /** Reports the `iat` of a fresh, verified token from the provider: its clock offset is measured (see createClockSkewMonitor). */
  observeIssuedAt(issuedAtSeconds: number): void;
  stop(): void;
}

const MAX_BACKOFF_MS = 30_000;

export function createOidcClient(
  oidc: Config['oidc'],
  log: Logger,
  options: { onClockOffset?: (offsetSeconds: number) => void } = {},
): OidcClient {
  const clock = createClockSkewMonitor({ toleranceSeconds: oidc.clockToleranceSeconds, log, onOffset: options.onClockOffset });
  let configuration: client.Configuration | undefined;
  let issuer: string | undefined;
  let keys: JWTVerifyGetKey | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  // Fetched over node:http rather than by openid-client's `discovery()`, which uses fetch (see
  // getJson); its checks are made here: a 200 JSON object whose `issuer` is the configured one (the
  // configuration allows http only for an http issuer or discovery URL).
  const metadataUrl = oidc.discoveryUrl ?? metadataUrlOf(new URL(oidc.issuer));
  const discover = async (attempt: number): Promise<void> => {
    try {
      const metadata = await getJson(metadataUrl, { accept: 'application/json', timeoutMs: oidc.httpTimeoutMs });
      if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { issuer?: unknown }).issuer !== 'string') {
        throw new Error(`the metadata at ${metadataUrl.href} is not an object naming its issuer`);
      }
      const advertised = (metadata as client.ServerMetadata).issuer;
      if (new URL(advertised).href !== new URL(oidc.issuer).href) {
        throw new Error(`the metadata at ${metadataUrl.href} names the issuer ${advertised}, not ${oidc.issuer}`);
      }
      const discovered = new client.Configuration(
        metadata as client.ServerMetadata,
        oidc.clientId,
        { client_secret: oidc.clientSecret, id_token_signed_response_alg: oidc.idTokenAlg },
        client.ClientSecretBasic(oidc.clientSecret),
      );
      if (oidc.allowInsecureRequests) client.allowInsecureRequests(discovered);
      discovered.timeout = Math.ceil(oidc.httpTimeoutMs / 1000);
      const jwksUri = discovered.serverMetadata().jwks_uri;
      if (!jwksUri) throw new Error('the provider metadata has no jwks_uri');
      keys = createSigningKeys(new URL(jwksUri), { cooldownMs: oidc.jwksCooldownMs, cacheMaxAgeMs: 10 * 60_000, timeoutMs: oidc.httpTimeoutMs });
      configuration = discovered;
      issuer = advertised;
      log.info({ issuer: oidc.issuer, attempt }, 'OpenID Provider metadata discovered');
      markReady();
    } catch (err) {
      if (stopped) return;
      const delay = Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS);
      log.warn({ issuer: oidc.issuer, attempt, retryInMs: delay, err: describeError(err) }, 'OpenID Provider discovery failed');
      timer = setTimeout(() => void discover(attempt + 1), delay);
      timer.unref();
    }
  };
  void discover(0);

  const notReady = () =>
    unavailable('identity provider', undefined, 'The identity provider is not reachable yet; try again shortly');

  return {
    issuer() {
      if (!issuer) throw notReady();
      return issuer;
    },
    isReady: () => configuration !== undefined,
    whenReady: () => ready,
    configuration() {
      if (!configuration) throw notReady();
      return configuration;
    },
    signingKeys() {
      if (!keys) throw notReady();
      return keys;
    },
    observeIssuedAt: (issuedAtSeconds) => clock.observe(issuedAtSeconds),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
