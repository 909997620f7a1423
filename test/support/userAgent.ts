interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt: number;
}

export interface Navigation {
  response: Response;
  /** Every URL visited, the first request included. */
  hops: string[];
  url: string;
  body: string;
}

/**
 * A scriptable browser without rendering: a cookie jar (cookies belong to a host, not a port, as
 * in browsers), manual redirects, and fetch. Enough to drive the code flow through real servers.
 */
export class UserAgent {
  readonly #cookies: StoredCookie[] = [];

  setCookie(url: string, name: string, value: string): void {
    const { hostname } = new URL(url);
    this.#remove(name, hostname, '/');
    this.#cookies.push({ name, value, host: hostname, path: '/', expiresAt: Infinity });
  }

  cookie(url: string, name: string): string | undefined {
    return this.#matching(new URL(url)).find((c) => c.name === name)?.value;
  }

  cookieHeader(url: string): string {
    return this.#matching(new URL(url))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** One request, no redirect following; cookies sent and stored. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.#store(url, response.headers.getSetCookie());
    return response;
  }

  /** Follows redirects like a browser navigation (GET after each 30x), up to `maxHops`. */
  async navigate(url: string, init: RequestInit = {}, maxHops = 20): Promise<Navigation> {
    const hops = [url];
    let response = await this.fetch(url, init);
    let current = url;
    while (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      if (hops.length > maxHops) throw new Error(`too many redirects: ${hops.join(' -> ')}`);
      await response.arrayBuffer();
      current = new URL(response.headers.get('location')!, current).href;
      hops.push(current);
      response = await this.fetch(current);
    }
    return { response, hops, url: current, body: await response.text() };
  }

  #matching(url: URL): StoredCookie[] {
    const now = Date.now();
    return this.#cookies.filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path) && c.expiresAt > now);
  }

  #remove(name: string, host: string, path: string): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--) {
      const c = this.#cookies[i]!;
      if (c.name === name && c.host === host && c.path === path) this.#cookies.splice(i, 1);
    }
  }

  #store(url: string, setCookies: string[]): void {
    const { hostname } = new URL(url);
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let path = '/';
      let expiresAt = Infinity;
      for (const attribute of attributes) {
        const [key, attrValue = ''] = attribute.split('=');
        const lower = key!.toLowerCase();
        if (lower === 'path') path = attrValue;
        if (lower === 'max-age') expiresAt = Date.now() + Number(attrValue) * 1000;
        if (lower === 'expires' && expiresAt === Infinity) expiresAt = Date.parse(attrValue);
      }
      this.#remove(name, hostname, path);
      if (expiresAt > Date.now() && value !== '') this.#cookies.push({ name, value, host: hostname, path, expiresAt });
    }
  }
}
