import { beforeAll, describe, expect, it } from 'vitest';
import { onKeycloak, USERS } from './support/env.js';
import { api, describeAnswer, isConnected, isInvalidated, typeCredentials, waitForPageEvent } from './support/flows.js';
import { signInOnApp, useAppStack, type SignedIn } from './support/stack.js';

/**
 * The user's own sign-out through the app (RP-initiated logout at Keycloak's end-session endpoint),
 * and token refresh across replicas. The periodic liveness re-check is switched off here
 * (LIVENESS_INTERVAL_SECONDS=0) so every refresh Keycloak records was made on a request's path.
 */
const stack = useAppStack({ LIVENESS_INTERVAL_SECONDS: '0' });

interface KeycloakEvent {
  time: number;
  type: string;
  sessionId?: string;
  clientId?: string;
  error?: string;
}

async function expectKeycloakSessionGone(who: SignedIn): Promise<void> {
  await stack.admin.waitForSessions(who.userId, (list) => !list.some((s) => s.id === who.keycloakSession.id), 10_000);
}

async function expectSignedOutLocally(who: SignedIn): Promise<void> {
  for (const url of stack.env.replicaUrls) {
    const answer = await api(url, '/api/user', who.cookie);
    expect(answer.status, describeAnswer('GET', `${url}/api/user`, answer)).toBe(401);
  }
}

/** A new sign-in must show Keycloak's form again: the provider session really ended. */
async function expectPasswordAskedAgain(who: SignedIn): Promise<void> {
  const { env } = stack;
  const page = await who.context.newPage();
  await page.goto(`${env.replicaUrls[0]}/auth/login`);
  await page.locator('#username').waitFor({ state: 'visible', timeout: 15_000 });
  await typeCredentials(page, USERS.alice.username, USERS.alice.password);
  await page.waitForURL((url) => url.origin === new URL(env.frontendUrl).origin, { timeout: 30_000 });
  await waitForPageEvent(page, isConnected, 15_000, '"connected" after signing in again');
}

describe(onKeycloak('RP-initiated logout through the app'), () => {
  it('when alice signs out from the page (XHR as axios sends it), Keycloak ends its session and returns her to the frontend', async () => {
    const { env } = stack;
    const alice = await signInOnApp(stack, 'alice');
    const answer = await alice.page.evaluate(async (appUrl) => {
      const response = await fetch(`${appUrl}/auth/logout`, {
        credentials: 'include',
        headers: { Accept: 'application/json, text/plain, */*' },
      });
      return { status: response.status, body: (await response.json()) as { logoutUrl?: string } };
    }, env.replicaUrls[0]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const logoutUrl = new URL(answer.body.logoutUrl!);
    expect(`${logoutUrl.origin}${logoutUrl.pathname}`).toBe(`${env.keycloak.issuer}/protocol/openid-connect/logout`);
    expect(logoutUrl.searchParams.get('id_token_hint')).toBeTruthy();
    expect(new URL(logoutUrl.searchParams.get('post_logout_redirect_uri')!).origin).toBe(env.frontendUrl);

    // The app revoked the session before answering: the open stream on B is told why.
    const event = await waitForPageEvent(alice.page, isInvalidated, 5_000, 'session_invalidated after logout');
    expect(JSON.parse(event.data)).toMatchObject({ reason: 'logout' });

    await alice.page.goto(logoutUrl.href);
    await alice.page.waitForURL((url) => url.origin === env.frontendUrl, { timeout: 15_000 });
    await expectKeycloakSessionGone(alice);
    await expectSignedOutLocally(alice);
    await expectPasswordAskedAgain(alice);
    await alice.context.close();
  });

  it('when alice navigates to /auth/logout, the 302 chain through Keycloak ends both sessions and lands on the frontend', async () => {
    const { env } = stack;
    const alice = await signInOnApp(stack, 'alice');
    const hops: string[] = [];
    alice.page.on('request', (request) => {
      if (request.isNavigationRequest()) hops.push(new URL(request.url()).origin + new URL(request.url()).pathname);
    });
    await alice.page.goto(`${env.replicaUrls[0]}/auth/logout`);
    await alice.page.waitForURL((url) => url.origin === env.frontendUrl, { timeout: 15_000 });
    console.log(`[e2e] logout navigation: ${hops.join(' → ')}`);
    expect(hops).toContain(`${env.keycloak.issuer}/protocol/openid-connect/logout`);
    await expectKeycloakSessionGone(alice);
    await expectSignedOutLocally(alice);
    await expectPasswordAskedAgain(alice);
    await alice.context.close();
  });
});

describe(onKeycloak('token refresh across replicas'), () => {
  beforeAll(async () => {
    // Keycloak stores events only while saving is on, and REFRESH_TOKEN is not among the types it
    // saves by default: name them.
    const config = await stack.admin.request<Record<string, unknown>>('GET', '/realms/board/events/config');
    await stack.admin.request('PUT', '/realms/board/events/config', {
      ...config,
      eventsEnabled: true,
      enabledEventTypes: ['LOGIN', 'CODE_TO_TOKEN', 'REFRESH_TOKEN', 'REFRESH_TOKEN_ERROR', 'LOGOUT'],
    });
  });

  const refreshEvents = async (who: SignedIn) => {
    const query = new URLSearchParams({ user: who.userId, max: '200' });
    query.append('type', 'REFRESH_TOKEN');
    query.append('type', 'REFRESH_TOKEN_ERROR');
    const events = await stack.admin.request<KeycloakEvent[]>('GET', `/realms/board/events?${query}`);
    return events.filter((e) => e.sessionId === who.keycloakSession.id);
  };
  const pastAccessTokenLifetime = () => new Promise((resolve) => setTimeout(resolve, (stack.env.accessTokenLifespanSeconds + 1) * 1000));

  it('after each access token expires, requests on either replica refresh it once and the session stays alive', async () => {
    const { env } = stack;
    const [a, b] = env.replicaUrls;
    const alice = await signInOnApp(stack, 'alice');
    // Only the test's requests may refresh from here on: a page's stream reconnecting would add one.
    await alice.page.close();

    await pastAccessTokenLifetime();
    const onB = await api(b, '/api/user', alice.cookie);
    expect(onB.status, describeAnswer('GET', `${b}/api/user`, onB)).toBe(200);
    const afterB = await refreshEvents(alice);
    expect(afterB.filter((e) => e.type === 'REFRESH_TOKEN').length, JSON.stringify(afterB)).toBeGreaterThanOrEqual(1);

    await pastAccessTokenLifetime();
    const onA = await api(a, '/api/user', alice.cookie);
    expect(onA.status, describeAnswer('GET', `${a}/api/user`, onA)).toBe(200);
    const afterA = await refreshEvents(alice);
    expect(afterA.filter((e) => e.type === 'REFRESH_TOKEN').length).toBeGreaterThan(afterB.filter((e) => e.type === 'REFRESH_TOKEN').length);

    // Both replicas at once with an expired token: one refresh wins the lock, no request fails.
    await pastAccessTokenLifetime();
    const burst = await Promise.all([a, b, a, b, a, b].map((url) => api(url, '/api/user', alice.cookie)));
    expect(burst.map((r) => r.status), burst.map((r) => describeAnswer('GET', '/api/user', r)).join('; ')).toEqual([200, 200, 200, 200, 200, 200]);
    const all = await refreshEvents(alice);
    console.log(`[e2e keycloak] refresh events for alice's session: ${all.map((e) => e.type).join(', ')}`);
    expect(all.filter((e) => e.type === 'REFRESH_TOKEN_ERROR')).toEqual([]);
    // One refresh per expiry: B's, A's, and a single one for the whole burst.
    expect(all.filter((e) => e.type === 'REFRESH_TOKEN')).toHaveLength(3);
    expect((await api(b, '/api/session-status', alice.cookie)).body).toMatchObject({ authenticated: true, sessionActive: true });
    await alice.context.close();
  });
});
