import { describe, expect, it } from 'vitest';
import { onKeycloak } from './support/env.js';
import { freePort } from '../support/ports.js';
import { api, describeAnswer, isInvalidated, logTiming, pageEvents, waitForPageEvent, waitUntilRevoked } from './support/flows.js';
import { signInOnApp, useAppStack, type SignedIn } from './support/stack.js';

/**
 * Sign-outs the app is not (fully) told about: a user's "Sign out" (Keycloak 26.4 sends a token for only
 * the first session; 26.7 names every one), a logout token that never arrives (Keycloak posts once and
 * never retries), and the realm's "Sign out all active sessions" (no token at all). The app's periodic
 * re-check against Keycloak (LIVENESS_INTERVAL_SECONDS, 5 s here) must end the rest. (With the
 * admin URL reachable, realm sign-outs arrive at once: adminActions.e2e.test.ts.)
 */
const stack = useAppStack();

async function expectAllEnded(browsers: SignedIn[], calledAt: number, label: string): Promise<string[]> {
  const { env } = stack;
  // One interval until the check is due, plus jitter, a refresh round-trip and the fan-out.
  const budgetMs = env.livenessIntervalSeconds * 1000 * 1.2 + 5_000;
  const reasons: string[] = [];
  for (const [i, browser] of browsers.entries()) {
    const event = await waitForPageEvent(browser.page, isInvalidated, budgetMs, `session_invalidated on browser ${i + 1}`);
    const reason = (JSON.parse(event.data) as { reason: string }).reason;
    reasons.push(reason);
    logTiming(`${label} → browser ${i + 1} received session_invalidated (${reason})`, event.at - calledAt);
    await waitUntilRevoked(env.replicaUrls, browser.cookie, 5_000);
  }
  return reasons;
}

describe(onKeycloak('sign-outs Keycloak announces partly or not at all (liveness re-check)'), () => {
  it('when the admin signs out all of bob\'s sessions, every one of bob\'s app sessions ends within the liveness interval', async () => {
    const { admin } = stack;
    const browsers = [await signInOnApp(stack, 'bob'), await signInOnApp(stack, 'bob')];
    const calledAt = Date.now();
    await admin.logoutUser(browsers[0]!.userId);
    const reasons = await expectAllEnded(browsers, calledAt, 'POST /admin/realms/board/users/{id}/logout');
    expect(reasons.every((r) => r === 'backchannel_logout' || r === 'provider_session_ended')).toBe(true);
    console.log(`[e2e keycloak] user logout ended bob's sessions with reasons ${JSON.stringify(reasons)}`);
    expect(await admin.userSessions(browsers[0]!.userId)).toEqual([]);
    for (const b of browsers) await b.context.close();
  });

  it('when Keycloak\'s logout token never arrives (it does not retry), the liveness check still ends exactly that session', async () => {
    const { admin, env } = stack;
    const lost = await signInOnApp(stack, 'alice');
    const other = await signInOnApp(stack, 'alice');
    // Point the back-channel at a closed port while the admin signs the session out.
    const client = await admin.findClient(env.clientId);
    const attributes = client.attributes as Record<string, string>;
    const closedPort = await freePort();
    await admin.updateClient({ ...client, attributes: { ...attributes, 'backchannel.logout.url': `http://127.0.0.1:${closedPort}/auth/backchannel-logout` } });
    const calledAt = Date.now();
    try {
      await admin.deleteSession(lost.keycloakSession.id);
    } finally {
      await admin.updateClient(client);
    }
    const reasons = await expectAllEnded([lost], calledAt, 'DELETE session with the back-channel POST lost');
    expect(reasons).toEqual(['provider_session_ended']);
    expect((await pageEvents(other.page)).filter(isInvalidated)).toEqual([]);
    for (const url of env.replicaUrls) {
      const answer = await api(url, '/api/user', other.cookie);
      expect(answer.status, describeAnswer('GET', `${url}/api/user`, answer)).toBe(200);
    }
    await lost.context.close();
    await other.context.close();
  });

  it('when the admin signs out the whole realm and its k_logout POST is lost (no logout token either), every session ends within the liveness interval', async () => {
    const { admin, env } = stack;
    const browsers = [await signInOnApp(stack, 'alice'), await signInOnApp(stack, 'bob'), await signInOnApp(stack, 'carol')];
    // The admin URL points at a closed port while the admin signs everyone out: only the re-check remains.
    const client = await admin.findClient(env.clientId);
    await admin.updateClient({ ...client, adminUrl: `http://127.0.0.1:${await freePort()}/auth/keycloak` });
    const calledAt = Date.now();
    try {
      await admin.logoutAll();
    } finally {
      await admin.updateClient(client);
    }
    const reasons = await expectAllEnded(browsers, calledAt, 'POST /admin/realms/board/logout-all');
    expect(reasons).toEqual(['provider_session_ended', 'provider_session_ended', 'provider_session_ended']);
    for (const b of browsers) await b.context.close();
  });
});
