import { Router, type CookieOptions, type Request, type Response } from 'express';
import * as client from 'openid-client';
import type { Config } from '../config/loadConfig.js';
import { HttpError, unavailable } from '../errors.js';
import type { CsrfGuard } from '../http/csrf.js';
import { detachSession, sessionOf } from '../sessions/requestSession.js';
import type { Logger } from '../logger.js';
import type { OidcClient } from '../oidc/oidcClient.js';
import type { LivenessSchedule } from '../sessions/livenessSchedule.js';
import { actorOf, type RevokeSessions } from '../sessions/revokeSessions.js';
import type { SessionIndex } from '../sessions/sessionIndex.js';
import type { SessionStore } from '../sessions/sessionStore.js';
import { completeLogin, type ProvisionUser } from './completeLogin.js';
import type { LoginStateSealer } from './loginState.js';
import { createLoginCookies } from './loginCookies.js';
import { afterLoginTarget, resolveReturnTo } from './returnTo.js';

export interface AuthRouteDeps {
  config: Config;
  oidc: OidcClient;
  sealer: LoginStateSealer;
  store: SessionStore;
  index: SessionIndex;
  schedule: LivenessSchedule;
  revoke: RevokeSessions;
  csrf: CsrfGuard;
  provisionUser: ProvisionUser;
  log: Logger;
}

const LOGIN_STATE_MAX_AGE_SECONDS = 600;

/** `GET /auth/login`, `GET /auth/callback`, `GET|POST /auth/logout`. */
export function createAuthRouter(deps: AuthRouteDeps): Router {
  const { config } = deps;
  const router = Router();
  const redirectUri = new URL('/auth/callback', config.baseUrl).href;
  const frontendUrl = config.frontendUrls[0]!;
  const cookiePrefix = `${config.session.secureCookie ? '__Host-' : ''}bff.auth.`;
  const cookieOptions: CookieOptions = {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.session.secureCookie,
    path: '/',
  };
  const loginCookies = createLoginCookies(cookiePrefix, cookieOptions);

  router.get('/auth/login', async (req, res) => {
    const returnTo = resolveReturnTo(req.query.returnTo, frontendUrl)?.href ?? '';
    const oidcConfig = deps.oidc.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(oidcConfig, {
      redirect_uri: redirectUri,
      scope: config.oidc.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const sealed = await deps.sealer.seal({ state, nonce, codeVerifier, returnTo }, LOGIN_STATE_MAX_AGE_SECONDS);
    loginCookies.issue(req, res, state, sealed, LOGIN_STATE_MAX_AGE_SECONDS);
    res.redirect(302, authorizationUrl.href);
  });

  router.get('/auth/callback', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    if (typeof query.error === 'string') throw providerError(query.error, query.error_description);
    if (typeof query.state !== 'string' || query.state === '') {
      throw new HttpError(400, 'invalid_request', 'The callback is missing its state parameter');
    }
    if (typeof query.code !== 'string' || query.code === '') {
      throw new HttpError(400, 'invalid_request', 'The callback is missing its authorization code');
    }
    const sealed = loginCookies.take(req, res, query.state);
    const login = sealed ? await deps.sealer.unseal(sealed) : null;
    if (!login) {
      throw new HttpError(400, 'login_state_missing', 'This sign-in attempt expired or began in another browser; start again');
    }
    if (login.state !== query.state) throw new HttpError(400, 'invalid_state', 'The state parameter does not match this sign-in attempt');

    const callbackUrl = new URL(req.originalUrl, config.baseUrl);
    const tokens = await exchangeCode(deps.oidc.configuration(), callbackUrl, login);
    const issuedAt = tokens.claims()?.iat;
    if (issuedAt !== undefined) deps.oidc.observeIssuedAt(issuedAt);
    const previous = sessionOf(res);
    if (previous.state === 'live') await deps.revoke([previous.sessionId], 'logout', actorOf(previous.auth));
    await completeLogin(req, res, tokens, deps);
    res.redirect(302, afterLoginTarget(login.returnTo, frontendUrl));
  });

  const logout = async (req: Request, res: Response) => {
    const session = sessionOf(res);
    let logoutUrl = config.frontendUrls[0]!.href;
    if (session.state === 'live') {
      const tokens = await deps.store.readTokens(session.sessionId, session.auth);
      logoutUrl = endSessionUrl(deps, tokens?.idToken) ?? logoutUrl;
      await deps.revoke([session.sessionId], 'logout', actorOf(session.auth));
    }
    detachSession(req, res);
    res.clearCookie(config.session.cookieName, cookieOptions);
    if (/application\/json/i.test(req.get('accept') ?? '')) res.json({ logoutUrl });
    else res.redirect(302, logoutUrl);
  };
  router.get('/auth/logout', deps.csrf.checkOrigin, logout);
  router.post('/auth/logout', deps.csrf.requireCsrf, logout);

  return router;
}

async function exchangeCode(
  oidcConfig: client.Configuration,
  callbackUrl: URL,
  login: { state: string; nonce: string; codeVerifier: string },
) {
  try {
    return await client.authorizationCodeGrant(oidcConfig, callbackUrl, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    if (err instanceof client.ResponseBodyError) {
      throw new HttpError(400, err.error === 'invalid_grant' ? 'invalid_grant' : 'login_failed',
        'The identity provider refused the sign-in code (it may have been used already); sign in again', { cause: err });
    }
    if (err instanceof client.AuthorizationResponseError) throw providerError(err.error, err.error_description);
    if (err instanceof client.ClientError) {
      throw new HttpError(400, 'login_failed', `The identity provider's answer failed validation: ${err.message}`, { cause: err });
    }
    throw unavailable('identity provider', err, 'The identity provider could not be reached; try again shortly');
  }
}

function providerError(error: string, description: unknown): HttpError {
  const code = /^[a-z_]{1,64}$/.test(error) ? error : 'login_failed';
  const detail = typeof description === 'string' ? `: ${description.slice(0, 200)}` : '';
  return new HttpError(code === 'access_denied' ? 403 : 400, code, `The identity provider ended the sign-in (${code})${detail}`);
}

function endSessionUrl(deps: AuthRouteDeps, idToken: string | undefined): string | undefined {
  if (!deps.oidc.isReady()) return undefined;
  const oidcConfig = deps.oidc.configuration();
  if (!oidcConfig.serverMetadata().end_session_endpoint) return undefined;
  return client.buildEndSessionUrl(oidcConfig, {
    ...(idToken ? { id_token_hint: idToken } : {}),
    post_logout_redirect_uri: deps.config.frontendUrls[0]!.href,
    client_id: deps.config.oidc.clientId,
  }).href;
}
