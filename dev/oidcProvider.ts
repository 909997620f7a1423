import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseCookies } from 'cookie';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { createEnumerableStore } from './enumerableAdapter.js';
import { createProviderAdmin, type ProviderAdmin } from './providerAdmin.js';
import { ACCOUNTS, CLIENT_ID, CLIENT_SECRET, type AccountId } from './providerAccounts.js';
import { escapeHtml, page, providerPageHooks } from './providerPages.js';

export { ACCOUNTS, CLIENT_ID, CLIENT_SECRET, type AccountId };

/** Cookie a test client sets for the provider's host to choose who logs in ("deny" refuses consent). */
export const LOGIN_AS_COOKIE = 'op_login_as';

export interface TestProvider {
  issuer: string;
  provider: any;
  /** A logout token signed with the provider's published key, Keycloak-shaped unless overridden. */
  signLogoutToken(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** The admin page's actions (also served at `/admin`): sign-outs as Keycloak's console does them. */
  admin: ProviderAdmin;
  /** Revokes every grant of an account without telling the client (no logout token). */
  revokeGrants(accountId: AccountId): Promise<void>;
  close(): Promise<void>;
}

export interface ProviderOptions {
  /** The relying party's public URL: redirect and back-channel URIs derive from it. */
  clientBaseUrl: string;
  /** Where the relying party may send the browser after logout (default: clientBaseUrl + "/"). */
  postLogoutRedirectUris?: string[];
  accessTokenTtlSeconds?: number;
  /** Fixed port (the demo); tests take a free one. */
  port?: number;
  /** Loopback address to listen on; also the issuer's host. */
  host?: string;
  /**
   * A server already listening on `host` (the demo binds the port first, so the BFF's discovery can
   * connect while the provider still loads): the provider handles its requests from now on.
   */
  server?: Server;
  /**
   * Its RS256 signing key pair (extractable), when the caller began generating it earlier: RSA
   * key generation takes 80–340 ms of CPU (the demo starts it first thing, on the thread pool).
   */
  keyPair?: ReturnType<typeof generateKeyPair>;
}

/**
 * A real OpenID Provider (node-oidc-provider) for tests and the demo: code flow with PKCE, refresh
 * tokens, RP-initiated and back-channel logout. Its login step completes without a password: as
 * the account named by the LOGIN_AS_COOKIE cookie (tests), or as the one a person picks on a
 * small page (the demo).
 */
export async function startDevProvider(options: ProviderOptions): Promise<TestProvider> {
  const server: Server = options.server ?? createServer();
  const host = options.host ?? '127.0.0.1';
  if (!options.server) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject); // EADDRINUSE on a fixed port reaches the caller, not the process
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await (options.keyPair ?? generateKeyPair('RS256', { extractable: true }));
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };
  const grants = new Map<string, Set<string>>();
  const store = createEnumerableStore();

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${options.clientBaseUrl}/auth/callback`],
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [`${options.clientBaseUrl}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        backchannel_logout_uri: `${options.clientBaseUrl}/auth/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    ],
    adapter: store.Adapter,
    jwks: { keys: [signingKey] },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: providerPageHooks.logoutSource, postLogoutSuccessSource: providerPageHooks.postLogoutSuccessSource },
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'realm_access'],
      email: ['email', 'email_verified'],
    },
    renderError: providerPageHooks.renderError,
    conformIdTokenClaims: false,
    issueRefreshToken: async () => true,
    // Its SSRF guard refuses loopback addresses, and here the relying party lives on loopback.
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      delete init.dispatcher;
      return globalThis.fetch(url, init);
    },
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600 },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => {
      const account = ACCOUNTS[id as AccountId];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          preferred_username: id,
          name: `${account.given_name} ${account.family_name}`,
          given_name: account.given_name,
          family_name: account.family_name,
          email: account.email,
          email_verified: true,
          realm_access: { roles: [...account.roles] },
        }),
      };
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error(`oidc-provider server_error: ${err.message}`));
  const admin = createProviderAdmin({
    provider,
    store,
    issuer,
    accounts: ACCOUNTS,
    onError: (message) => console.error(`demo provider: ${message}`),
  });

  const completeInteraction = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      const who = readCookie(req, LOGIN_AS_COOKIE) ?? (await pickedAccount(req, res));
      if (who === undefined) return;
      const result = who === 'deny' ? { error: 'access_denied', error_description: 'The user refused' } : { login: { accountId: who } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    const ids = grants.get(details.session.accountId) ?? new Set<string>();
    ids.add(grantId);
    grants.set(details.session.accountId, ids);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      completeInteraction(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    admin
      .handle(req, res)
      .then((handled) => handled || callback(req, res))
      .catch((err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      });
  });

  return {
    issuer,
    provider,
    admin,
    signLogoutToken(claims, header = { alg: 'RS256', kid: signingKey.kid, typ: 'logout+jwt' }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        aud: CLIENT_ID,
        iat: now,
        exp: now + 120,
        jti: crypto.randomUUID(),
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
        ...claims,
      })
        .setProtectedHeader(header as { alg: string })
        .sign(privateKey);
    },
    async revokeGrants(accountId) {
      for (const grantId of grants.get(accountId) ?? []) {
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
        await revokeTokensOfGrant(provider, grantId);
      }
      grants.delete(accountId);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Destroying a grant does not by itself void refresh tokens already issued from it: revoke those too. */
async function revokeTokensOfGrant(provider: any, grantId: string): Promise<void> {
  for (const model of ['RefreshToken', 'AccessToken', 'AuthorizationCode']) {
    await provider[model].adapter.revokeByGrantId(grantId);
  }
}

/** The demo's login page: pick a user (GET shows the choice, POST carries it). */
async function pickedAccount(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  if (req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const account = new URLSearchParams(body).get('account') ?? '';
    if (account in ACCOUNTS) return account;
  }
  const buttons = Object.entries(ACCOUNTS)
    .map(([id, a]) => `<button name="account" value="${id}">${escapeHtml(`${a.given_name} ${a.family_name}`)} <span>· ${escapeHtml((a.roles as readonly string[]).includes('board-admin') ? 'moderator' : 'member')}</span></button>`)
    .join('');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(
    page(
      'Sign in',
      `<div class="card"><h1>Sign in</h1><p class="muted">Pick a demo user. Carol is a board moderator.</p><form method="post" class="choices">${buttons}</form></div>`,
    ),
  );
  return undefined;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  return parseCookies(req.headers.cookie ?? '')[name];
}
