import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnumerableStore } from './enumerableAdapter.js';
import { escapeHtml, page } from './providerPages.js';

export interface ProviderSession {
  /** The provider's own session id (not a `sid`: those are per client, in `clients`). */
  id: string;
  accountId: string;
  loginTime: Date;
  clients: { clientId: string; sid: string; grantId: string | undefined }[];
}

export interface ProviderAdmin {
  sessions(): ProviderSession[];
  /** Keycloak's session-row "Sign out": the session ends; one logout token per client, with its `sid`. */
  signOutSession(id: string): Promise<number>;
  /** Keycloak 26.7's user "Logout all sessions": every session of the account, one token per session and client. */
  signOutAccount(accountId: string): Promise<number>;
  /** Keycloak's realm "Sign out all active sessions": every session ends, and no logout token is sent. */
  signOutEveryone(): Promise<number>;
  /** Serves `/admin` (GET: the page; POST: the three actions). False when the path is not the admin's. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/**
 * The demo provider's administration page, doing what Keycloak's admin console does for the same
 * buttons, so a forced sign-out can be watched in the board. Development only: no authentication
 * beyond a same-origin check on its POSTs.
 */
export function createProviderAdmin(deps: {
  provider: any;
  store: EnumerableStore;
  issuer: string;
  accounts: Record<string, { given_name: string; family_name: string }>;
  onError?: (message: string) => void;
}): ProviderAdmin {
  const { provider, store } = deps;

  const sessions = (): ProviderSession[] =>
    store
      .list('Session')
      .filter(([, payload]) => typeof payload.accountId === 'string')
      .map(([id, payload]) => ({
        id,
        accountId: payload.accountId as string,
        loginTime: new Date((payload.loginTs as number) * 1000),
        clients: Object.entries((payload.authorizations ?? {}) as Record<string, { sid?: string; grantId?: string }>)
          .filter(([, a]) => a.sid)
          .map(([clientId, a]) => ({ clientId, sid: a.sid!, grantId: a.grantId })),
      }))
      .sort((a, b) => a.loginTime.getTime() - b.loginTime.getTime());

  /** Ends the session, its grants and their tokens (refresh tokens stop working, as in Keycloak). */
  const end = async (session: ProviderSession) => {
    await provider.Session.adapter.destroy(session.id);
    for (const { grantId } of session.clients) {
      if (!grantId) continue;
      await (await provider.Grant.find(grantId))?.destroy();
      await provider.RefreshToken.adapter.revokeByGrantId(grantId);
    }
  };
  const notify = async (session: ProviderSession) => {
    for (const { clientId, sid } of session.clients) {
      const client = await provider.Client.find(clientId);
      if (!client?.backchannelLogoutUri) continue;
      await client.backchannelLogout(session.accountId, sid).catch((err: Error) => deps.onError?.(`logout token to ${clientId} failed: ${err.message}`));
    }
  };
  // Token first, then the grants: the relying party hears the reason (an administrator) before a
  // refresh of its own could find the grant gone and name a vaguer one.
  const signOut = async (chosen: ProviderSession[], sendTokens: boolean) => {
    for (const session of chosen) {
      if (sendTokens) await notify(session);
      await end(session);
    }
    return chosen.length;
  };

  const admin: ProviderAdmin = {
    sessions,
    signOutSession: (id) => signOut(sessions().filter((s) => s.id === id), true),
    signOutAccount: (accountId) => signOut(sessions().filter((s) => s.accountId === accountId), true),
    signOutEveryone: () => signOut(sessions(), false),
    async handle(req, res) {
      const url = new URL(req.url ?? '/', deps.issuer);
      if (url.pathname !== '/admin' && !url.pathname.startsWith('/admin/')) return false;
      if (req.method === 'GET' && url.pathname === '/admin') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.setHeader('cache-control', 'no-store');
        res.end(renderAdmin(sessions(), deps.accounts, url.searchParams.get('done')));
        return true;
      }
      if (req.method !== 'POST' || (req.headers.origin !== undefined && req.headers.origin !== new URL(deps.issuer).origin)) {
        res.statusCode = req.method === 'POST' ? 403 : 405;
        res.end();
        return true;
      }
      const [, , kind, id] = url.pathname.split('/').map(decodeURIComponent);
      let done: string;
      if (kind === 'sessions' && id) done = `Signed out ${await admin.signOutSession(id)} session (logout token sent).`;
      else if (kind === 'accounts' && id) done = `Signed out ${await admin.signOutAccount(id)} session(s) of ${id} (one logout token each).`;
      else if (kind === 'everyone') done = `Signed out ${await admin.signOutEveryone()} session(s); no logout token sent — the board notices at its next liveness check.`;
      else {
        res.statusCode = 404;
        res.end();
        return true;
      }
      res.writeHead(303, { location: `/admin?done=${encodeURIComponent(done)}` }).end();
      return true;
    },
  };
  return admin;
}

function renderAdmin(all: ProviderSession[], accounts: Record<string, { given_name: string; family_name: string }>, done: string | null): string {
  const time = (d: Date) => d.toLocaleTimeString('en-GB');
  const sections = Object.entries(accounts).map(([accountId, a]) => {
    const name = `${a.given_name} ${a.family_name}`;
    const mine = all.filter((s) => s.accountId === accountId);
    const rows = mine
      .map(
        (s) => `<tr><td>${time(s.loginTime)}</td><td>${s.clients.map((c) => `<code>${escapeHtml(c.clientId)}</code> sid <code>${escapeHtml(c.sid.slice(0, 8))}…</code>`).join('<br>') || '<span class="muted">no client yet</span>'}</td>
<td><form method="post" action="/admin/sessions/${encodeURIComponent(s.id)}"><button class="secondary" aria-label="Sign out ${escapeHtml(name)}'s session from ${time(s.loginTime)}">Sign out this session</button></form></td></tr>`,
      )
      .join('');
    return `<section class="card" aria-labelledby="acct-${accountId}"><h2 id="acct-${accountId}">${escapeHtml(name)} <span class="muted">(${accountId})</span></h2>
${mine.length === 0 ? '<p class="muted">No sessions.</p>' : `<table><thead><tr><th scope="col">Signed in</th><th scope="col">Clients</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${rows}</tbody></table>
<form method="post" action="/admin/accounts/${accountId}" class="row" style="margin-top:.75rem"><button aria-label="Sign out all of ${escapeHtml(name)}'s sessions">Sign out all of this user's sessions</button></form>`}</section>`;
  });
  return page(
    'Sessions',
    `<h1>Sessions at the provider</h1>
<p class="muted">Sign in to the board as Alice in one window, sign her out here, and watch her tab react. These buttons do what
Keycloak's admin console does: one back-channel logout token per session (with its <code>sid</code>) — or, for “everyone”, none at all.
<a href="/admin">Refresh</a></p>
${done ? `<p class="flash" role="status">${escapeHtml(done)}</p>` : ''}
${sections.join('\n')}
<section class="card" aria-labelledby="everyone"><h2 id="everyone">Everyone</h2>
<p class="muted">Like Keycloak's “Sign out all active sessions”: no logout token is sent; the board notices when its liveness check next refreshes each session's tokens.</p>
<form method="post" action="/admin/everyone"><button class="danger">Sign out everyone</button></form></section>`,
  );
}
