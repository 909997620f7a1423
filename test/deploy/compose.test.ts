import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/loadConfig.js';
import { describe, expect, it } from 'vitest';
import { NGINX_CONFIG, startNginx, testNginxConfig } from '../support/nginx.js';
import { freePort } from '../support/ports.js';
import { startWorld } from '../support/world.js';
import { webDist } from '../../scripts/buildWeb.js';
import { APP_EXIT_MARGIN_SECONDS, committedFiles, composeConfig, configSettingNames, isIgnored, requireTool, ROOT, volumeMount } from './support/deployFiles.js';

/**
 * docker-compose.yml, .env.example and the nginx config it mounts, checked without a Docker engine:
 * Debian's docker-compose parses and interpolates the file, nginx -t checks the proxy config, and the
 * invariants below tie them to the app's settings. An actual `docker compose up` is not run here.
 */
const compose = composeConfig();
const services = compose.services;
const APP_SERVICES = ['app1', 'app2'];
const settings = configSettingNames();
const nginxConf = readFileSync(NGINX_CONFIG, 'utf8');

describe('docker-compose.yml', () => {
  it('parses with docker-compose and defines the whole system', () => {
    expect(Object.keys(services).sort()).toEqual(['app1', 'app2', 'keycloak', 'nginx', 'postgres', 'redis']);
  });

  it('refuses to start without the secrets instead of inventing them', () => {
    const work = mkdtempSync(join(tmpdir(), 'board-compose-'));
    try {
      writeFileSync(join(work, 'empty.env'), '');
      const run = () =>
        execFileSync(requireTool('docker-compose', 'docker-compose'), ['--env-file', join(work, 'empty.env'), '-f', join(ROOT, 'docker-compose.yml'), 'config'], {
          cwd: work,
          env: { PATH: process.env.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      expect(run).toThrow(/set (CLIENT_SECRET|SESSION_SECRET|POSTGRES_PASSWORD|KC_BOOTSTRAP_ADMIN_PASSWORD) in \.env/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('gives both replicas the same settings, each one a setting src/config/ reads', () => {
    const [a, b] = APP_SERVICES.map((name) => services[name]);
    expect(a.environment).toEqual(b.environment);
    expect(Object.keys(a.environment).filter((name) => !settings.has(name))).toEqual([]);
    expect(a.environment.REDIS_URL).toMatch(/^redis:\/\/redis:6379$/);
    expect(new URL(a.environment.DATABASE_URL).host).toBe('postgres:5432');
  });

  it('gives the replicas a configuration src/config/ accepts', () => {
    const config = loadConfig(services.app1.environment);
    expect(config.oidc.issuer).toBe('http://localhost:8081/realms/board');
    expect(config.oidc.discoveryUrl?.href).toBe('http://keycloak:8080/realms/board/.well-known/openid-configuration');
    expect(config.trustProxy).toBe(1);
  });

  it('splits the issuer: Keycloak issues for its public URL, the app fetches metadata on the compose network', () => {
    const app = services.app1.environment;
    const keycloak = services.keycloak.environment;
    expect(keycloak.KC_HOSTNAME).toBe(app.KEYCLOAK_URL);
    expect(keycloak.KC_HOSTNAME_BACKCHANNEL_DYNAMIC).toBe('true');
    expect(app.OIDC_DISCOVERY_URL).toBe(`http://keycloak:8080/realms/${app.KEYCLOAK_REALM}`);
    expect(nginxConf).toContain('server keycloak:8080;');
    // Keycloak posts logout tokens through nginx, so any replica may receive them.
    expect(keycloak.BOARD_BFF_BACKCHANNEL_LOGOUT_URL).toBe('http://nginx:8080/auth/backchannel-logout');
    // Realm logout-all and "Revocation → Push" arrive as admin actions under the admin URL, by the same way in.
    expect(keycloak.BOARD_BFF_ADMIN_URL).toBe(`http://nginx:8080${app.KEYCLOAK_ADMIN_PATH ?? '/auth/keycloak'}`);
    expect(keycloak.BOARD_BFF_URL).toBe(app.BASE_URL);
    expect(keycloak.BOARD_BFF_CLIENT_SECRET).toBe(app.CLIENT_SECRET);
    expect(services.keycloak.command).toEqual(['start-dev', '--import-realm']);
    expect(services.keycloak.volumes.map(volumeMount)).toContain(`${join(ROOT, 'keycloak/board-realm.json')}:/opt/keycloak/data/import/board-realm.json`);
  });

  it('agrees on ports: the app listens where nginx, the healthcheck and the Dockerfile point; nginx publishes its listeners', () => {
    const port = services.app1.environment.PORT;
    expect(nginxConf).toContain(`server app1:${port} `);
    expect(nginxConf).toContain(`server app2:${port} `);
    expect(services.app1.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    const listens = [...nginxConf.matchAll(/^\s*listen (\d+);/gm)].map((m) => m[1]);
    const published = services.nginx.ports.map((p: { target: number; published: number | string }) => `${p.published}:${p.target}`);
    expect(published).toEqual(listens.map((p) => `${p}:${p}`));
    expect(new URL(services.app1.environment.BASE_URL).port).toBe(listens[0]);
    expect(new URL(services.app1.environment.KEYCLOAK_URL).port).toBe(listens[1]);
  });

  it('mounts the very nginx config the topology test runs, and nothing else (the replicas serve the page)', () => {
    expect(services.nginx.volumes.map(volumeMount)).toEqual([`${NGINX_CONFIG}:/etc/nginx/conf.d/default.conf`]);
  });

  it('starts in order: every depended-on service has a healthcheck and is waited for until healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, condition] of Object.entries((service.depends_on ?? {}) as Record<string, { condition: string }>)) {
        expect(condition, `${name} → ${dependency}`).toEqual({ condition: 'service_healthy' });
        expect(services[dependency].healthcheck?.test, `${dependency} has no healthcheck`).toBeDefined();
      }
    }
    expect(Object.keys(services.nginx.depends_on).sort()).toEqual(APP_SERVICES);
    expect(Object.keys(services.app1.depends_on).sort()).toEqual(['keycloak', 'postgres', 'redis']);
    expect(services.redis.command).toContain('--appendonly');
    expect(services.redis.command[services.redis.command.indexOf('--appendonly') + 1]).toBe('yes');
  });

  it('gives a stopping replica the time to drain before Docker kills it', () => {
    const env = services.app1.environment;
    const needed = Number(env.SHUTDOWN_DELAY_SECONDS ?? 0) + Number(env.SHUTDOWN_GRACE_SECONDS) + APP_EXIT_MARGIN_SECONDS;
    const stop = /^(\d+)s$/.exec(services.app1.stop_grace_period)?.[1];
    expect(Number(stop)).toBeGreaterThanOrEqual(needed);
  });

  it('uses no :latest image and pins every one it pulls', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(/^[^@]+:(?!latest$)[\w][\w.-]*$/);
    }
    expect(services.app1.build.context).toBe(ROOT);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(services.app1.image).toBe(`board-bff:${version}`);
  });
});

describe('deploy/nginx/board-bff.conf', () => {
  it('passes nginx -t with its container names replaced by loopback addresses', () => {
    const result = testNginxConfig({ appPort: 18080, keycloakPort: 18081, replicas: ['127.0.0.1:13001', '127.0.0.1:13002'], keycloak: '127.0.0.1:18088' });
    expect(result.output).toMatch(/test is successful/);
    expect(result.ok).toBe(true);
  });

  it('passes the React app (page and assets, served by a replica) through on the API\'s origin, and keeps /metrics inside', async () => {
    const world = await startWorld({ redis: false }); // its own PostgreSQL database: embedding PGlite only slows this proxy test down
    const replica = new URL(world.apps[0]!.url).host;
    const nginx = await startNginx({ appPort: await freePort(), keycloakPort: await freePort(), replicas: [replica, replica], keycloak: '127.0.0.1:9' });
    try {
      const page = await fetch(`${nginx.appUrl}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toBe(readFileSync(join(webDist, 'index.html'), 'utf8'));
      const script = await fetch(`${nginx.appUrl}/assets/app.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect(await script.text()).toBe(readFileSync(join(webDist, 'assets/app.js'), 'utf8'));
      // The page's API calls go to the same origin, through the same proxy.
      const user = await fetch(`${nginx.appUrl}/api/user`, { headers: { accept: 'application/json' } });
      expect(user.status).toBe(401);
      expect((await fetch(`${nginx.appUrl}/metrics`)).status).toBe(404);
      const served = (path: string) => nginx.accessLog().find((line) => line.includes(`"GET ${path} HTTP/1.1"`));
      for (const [path, status] of [['/', 200], ['/assets/app.js', 200], ['/api/user', 401]] as const) {
        expect(served(path), path).toContain(`" ${status} upstream=${replica} `);
      }
      expect(served('/metrics')).toMatch(/" 404 upstream=- /);
    } finally {
      await nginx.stop();
      await world.close();
    }
  });

  it('proxies the event stream unbuffered, with a read timeout far above the heartbeat, and no stickiness', () => {
    const events = /location = \/api\/events \{([^}]*)\}/.exec(nginxConf)?.[1] ?? '';
    expect(events).toMatch(/proxy_buffering off;/);
    expect(events).toMatch(/gzip off;/);
    const timeout = /proxy_read_timeout (\d+)(s|m|h);/.exec(events);
    const seconds = Number(timeout?.[1]) * { s: 1, m: 60, h: 3600 }[timeout?.[2] as 's' | 'm' | 'h'];
    expect(seconds).toBeGreaterThan(4 * 15);
    expect(nginxConf).not.toMatch(/\b(ip_hash|hash |sticky)\b/);
    expect(nginxConf).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(nginxConf).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
  });
});

describe('secrets in committed files', () => {
  const deployFiles = committedFiles(['docker-compose.yml', '.env.example', 'deploy', 'k8s', 'keycloak/kustomization.yaml', 'Dockerfile']);

  it('keeps real values out: compose interpolates them, example files hold placeholders, the real files are git-ignored', () => {
    expect(deployFiles).toContain('.env.example');
    const raw = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { 'x-app': { environment: Record<string, string> } };
    for (const [name, value] of Object.entries(raw['x-app'].environment)) {
      if (/SECRET|PASSWORD/.test(name)) expect(value, name).toMatch(/^\$\{[A-Z_]+:\?/);
    }
    for (const file of deployFiles.filter((f) => f.endsWith('.env.example') || f.endsWith('.env'))) {
      for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
        const match = /^([A-Z_]+)=(.*)$/.exec(line);
        if (match && /SECRET|PASSWORD|DATABASE_URL/.test(match[1]!)) expect(match[2], `${file} ${match[1]}`).toMatch(/change-me/);
      }
    }
    for (const file of ['.env', 'k8s/overlays/dev/secrets.env', 'k8s/overlays/dev/infra-secrets.env']) expect(isIgnored(file), file).toBe(true);
  });

  it('commits no Kubernetes Secret with data and no credentials inside a URL', () => {
    for (const file of deployFiles) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/^kind:\s*Secret\s*$/m);
      for (const [url] of text.matchAll(/[a-z]+:\/\/[^\s'"]*@[^\s'"]+/g)) {
        expect(url, `${file}: ${url}`).toMatch(/:\/\/[^:@]*:(\$\{[^}]+\}|change-me[^@]*)@/);
      }
    }
  });
});
