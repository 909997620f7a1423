/**
 * The admin REST calls the Keycloak admin console makes, so tests force sign-outs exactly the way an
 * administrator would. Tokens come from the master realm's `admin-cli` client (password grant), which
 * the bootstrap admin may use; they live 60 s, so one is fetched per call rather than cached.
 */
export interface AdminCredentials {
  /** Keycloak's base URL, e.g. http://localhost:8080 (no /realms suffix). */
  url: string;
  username: string;
  password: string;
}

export interface KeycloakUser {
  id: string;
  username: string;
  email?: string;
}

/** One row of Admin console → Users → Sessions. `start`/`lastAccess` are epoch milliseconds. */
export interface KeycloakSession {
  id: string;
  username: string;
  userId: string;
  ipAddress: string;
  start: number;
  lastAccess: number;
  clients: Record<string, string>;
}

export class KeycloakAdmin {
  constructor(
    private readonly creds: AdminCredentials,
    readonly realm = 'board',
  ) {}

  async token(): Promise<string> {
    const response = await fetch(`${this.creds.url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: this.creds.username,
        password: this.creds.password,
      }),
    });
    if (!response.ok) throw new Error(`Keycloak admin login failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /**
   * Any admin call; `path` is relative to /admin (e.g. `/realms/board/users`). Throws on non-2xx.
   * `token` (from `token()`) lets a test time the call itself, without the admin sign-in before it.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const response = await fetch(`${this.creds.url}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? (await this.token())}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Keycloak admin ${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** GET /admin/serverinfo → the running Keycloak's version, e.g. "26.7.3". */
  async serverVersion(): Promise<string> {
    const info = await this.request<{ systemInfo?: { version?: string } }>('GET', '/serverinfo');
    const version = info.systemInfo?.version;
    if (!version) throw new Error('GET /admin/serverinfo carries no systemInfo.version on this Keycloak');
    return version;
  }

  async findUser(username: string): Promise<KeycloakUser> {
    const query = new URLSearchParams({ username, exact: 'true' });
    const users = await this.request<KeycloakUser[]>('GET', `/realms/${this.realm}/users?${query}`);
    const user = users[0];
    if (!user) throw new Error(`Keycloak user "${username}" not found in realm ${this.realm}`);
    return user;
  }

  /** The user's online sessions, oldest first. */
  async userSessions(userId: string): Promise<KeycloakSession[]> {
    const sessions = await this.request<KeycloakSession[]>('GET', `/realms/${this.realm}/users/${userId}/sessions`);
    return sessions.sort((a, b) => a.start - b.start);
  }

  /** Session row "Sign out": Keycloak sends one logout token per client, carrying this session's sid. */
  async deleteSession(sessionId: string): Promise<void> {
    await this.request('DELETE', `/realms/${this.realm}/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** User "Sign out" (all of one user's sessions). */
  async logoutUser(userId: string): Promise<void> {
    await this.request('POST', `/realms/${this.realm}/users/${userId}/logout`);
  }

  /** Realm "Sign out all active sessions": sets the realm's not-before; Keycloak sends no logout token. */
  async logoutAll(): Promise<unknown> {
    return this.request('POST', `/realms/${this.realm}/logout-all`);
  }

  /**
   * Realm → Sessions → Revocation → "Set to now": the realm's not-before becomes now (epoch seconds,
   * as the admin console computes it); tokens issued before it are refused from now on. Returns it.
   */
  async setRealmNotBeforeNow(): Promise<number> {
    const notBefore = Math.floor(Date.now() / 1000);
    await this.request('PUT', `/realms/${this.realm}`, { realm: this.realm, notBefore });
    return notBefore;
  }

  /** The client representation (by clientId), for checks and for re-pointing URLs at a running server. */
  async findClient(clientId: string): Promise<Record<string, unknown> & { id: string }> {
    const clients = await this.request<Array<Record<string, unknown> & { id: string }>>(
      'GET',
      `/realms/${this.realm}/clients?clientId=${encodeURIComponent(clientId)}`,
    );
    const client = clients[0];
    if (!client) throw new Error(`Keycloak client "${clientId}" not found in realm ${this.realm}`);
    return client;
  }

  async updateClient(client: Record<string, unknown> & { id: string }): Promise<void> {
    await this.request('PUT', `/realms/${this.realm}/clients/${client.id}`, client);
  }

  /** Waits until `predicate` holds for the user's sessions (Keycloak's admin view is eventually updated). */
  async waitForSessions(
    userId: string,
    predicate: (sessions: KeycloakSession[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<KeycloakSession[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sessions = await this.userSessions(userId);
      if (predicate(sessions)) return sessions;
      if (Date.now() > deadline) {
        throw new Error(`Keycloak sessions of ${userId} never matched: ${JSON.stringify(sessions.map((s) => s.id))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
