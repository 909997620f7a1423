import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { startWorld, type World } from '../support/world.js';
import { APP_EXIT_MARGIN_SECONDS, configSettingNames, OVERLAYS, preStopSeconds, renderOverlay, ROOT, type Manifest, type Overlay } from './support/deployFiles.js';
import { schemaProblems } from './support/kubernetesSchemas.js';
import { startFlags } from '../../scripts/buildServer.js';
import { webDist } from '../../scripts/buildWeb.js';

/**
 * k8s/: each overlay renders with `kubectl kustomize`, validates against the Kubernetes API schemas, and
 * keeps the invariants a rollout relies on. No cluster is involved: what a cluster would do with these
 * manifests is not proven here (README "Deploy" says so).
 */
const rendered = Object.fromEntries(OVERLAYS.map((overlay) => [overlay, renderOverlay(overlay)])) as Record<Overlay, Manifest[]>;
const one = (docs: Manifest[], kind: string, name = 'board-bff') => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in the rendered overlay`);
  return found;
};
const appConfigMap = (docs: Manifest[]) => {
  const found = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('board-bff-config'));
  if (!found) throw new Error('no board-bff-config ConfigMap');
  return found.data as Record<string, string>;
};
const appContainer = (docs: Manifest[]) => one(docs, 'Deployment').spec.template.spec.containers.find((c: any) => c.name === 'board-bff');
const settings = configSettingNames();
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  const docs = rendered[overlay];

  it('renders the app and everything around it', () => {
    const kinds = docs.map((d) => d.kind);
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'Ingress', 'ConfigMap']) {
      expect(kinds, `missing ${kind}`).toContain(kind);
    }
    if (overlay === 'dev') {
      for (const name of ['redis', 'postgres', 'keycloak']) expect(one(docs, 'Deployment', name).spec.replicas).toBe(1);
    } else {
      expect(docs.filter((d) => d.kind === 'Deployment').map((d) => d.metadata.name)).toEqual(['board-bff']);
    }
  });

  it('validates against the Kubernetes API schemas (kubernetes-models: JSON Schema and typed fields)', async () => {
    expect(await schemaProblems(docs)).toEqual([]);
  }, 60_000);

  it(`runs ${overlay === 'prod' ? 'at least 3' : 'at least 2'} replicas, and the autoscaler never goes below that`, () => {
    const min = overlay === 'prod' ? 3 : 2;
    expect(one(docs, 'Deployment').spec.replicas).toBeGreaterThanOrEqual(min);
    const hpa = one(docs, 'HorizontalPodAutoscaler').spec;
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(one(docs, 'Deployment').spec.replicas);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'board-bff' });
    expect(one(docs, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('names only settings that src/config/ reads', () => {
    const container = appContainer(docs);
    const names = [...Object.keys(appConfigMap(docs)), ...(container.env ?? []).map((e: { name: string }) => e.name)];
    const secretKeys = docs
      .filter((d) => d.kind === 'Secret' && d.metadata.name.startsWith('board-bff-secrets'))
      .flatMap((d) => Object.keys(d.data ?? {}));
    expect([...names, ...secretKeys].filter((name) => !settings.has(name))).toEqual([]);
    expect(container.envFrom.map((e: any) => (e.configMapRef ?? e.secretRef).name.replace(/-[a-z0-9]{10}$/, ''))).toEqual([
      'board-bff-config',
      'board-bff-secrets',
    ]);
  });

  it('starts: the ConfigMap and the Secret together are a configuration src/config/ accepts', () => {
    const secrets = docs.filter((d) => d.kind === 'Secret' && d.metadata.name.startsWith('board-bff-secrets'));
    // prod's Secret is made outside git: these are the keys its comment and the README list.
    const secretEnv =
      overlay === 'prod'
        ? { CLIENT_SECRET: 'x', SESSION_SECRET: 'y'.repeat(32), DATABASE_URL: 'postgres://board:x@db.internal:5432/board', REDIS_URL: 'rediss://:x@redis.internal:6380' }
        : Object.fromEntries(secrets.flatMap((d) => Object.entries(d.data as Record<string, string>)).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    const config = loadConfig({ ...appConfigMap(docs), ...secretEnv });
    expect(config.redis.url).toBeDefined();
    expect(config.database.url).toBeDefined();
    expect(config.production).toBe(overlay === 'prod');
  });

  it('agrees on one port: the app listens where the container, the Service, the probes and the policy point', () => {
    const port = Number(appConfigMap(docs).PORT);
    const container = appContainer(docs);
    expect(container.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet.port).toBe('http');
    expect(one(docs, 'Service').spec.ports[0].targetPort).toBe('http');
    expect(one(docs, 'NetworkPolicy').spec.ingress.flatMap((rule: any) => rule.ports.map((p: any) => p.port))).toEqual(['http']);
    const servicePortNames = one(docs, 'Service').spec.ports.map((p: any) => p.name);
    for (const path of one(docs, 'Ingress').spec.rules.flatMap((r: any) => r.http.paths)) {
      expect(path.backend.service.name).toBe('board-bff');
      expect(servicePortNames).toContain(path.backend.service.port.name);
    }
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
  });

  it('starts the server as `npm start` does: the image runs node with the same flags, the pods do not override it', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(cmd && JSON.parse(cmd)).toEqual(['node', ...startFlags(), 'dist/server.js']);
    expect(appContainer(docs).command).toBeUndefined();
    expect(appContainer(docs).args).toBeUndefined();
  });

  it('stops within the grace period: preStop, then the app\'s delay, drain and last-resort margin', () => {
    const pod = one(docs, 'Deployment').spec.template.spec;
    const config = appConfigMap(docs);
    const drain = Number(config.SHUTDOWN_GRACE_SECONDS);
    expect(drain).toBeGreaterThan(0);
    const needed = preStopSeconds(appContainer(docs)) + Number(config.SHUTDOWN_DELAY_SECONDS ?? 0) + drain + APP_EXIT_MARGIN_SECONDS;
    expect(needed).toBeLessThanOrEqual(pod.terminationGracePeriodSeconds);
    expect(one(docs, 'Deployment').spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('runs unprivileged: non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = one(docs, 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(appContainer(docs).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('requests and limits resources, memory limit above the measured peak', () => {
    const { requests, limits } = appContainer(docs).resources;
    expect(requests.cpu).toBeDefined();
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(128);
    expect(mebibytes(limits.memory)).toBeGreaterThan(mebibytes(requests.memory));
  });

  it('uses no :latest image and pins every one', () => {
    const images = docs
      .filter((d) => d.kind === 'Deployment')
      .flatMap((d) => d.spec.template.spec.containers.map((c: { image: string }) => c.image));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image, image).toMatch(/^[^@]+:(?!latest$)[\w][\w.-]*$/);
    // The app's own image is the release in package.json: a version bump must reach the manifests.
    expect(appContainer(docs).image).toMatch(new RegExp(`(^|/)board-bff:${VERSION.replaceAll('.', '\\.')}$`));
  });

  it('lets only the ingress controller and Keycloak in, and the app out only to DNS and its peers', () => {
    const policy = one(docs, 'NetworkPolicy').spec;
    expect(policy.podSelector.matchLabels).toEqual(one(docs, 'Deployment').spec.selector.matchLabels);
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'keycloak' } } },
    ]);
    const egressPorts = policy.egress.flatMap((rule: any) => rule.ports.map((p: any) => p.port)).sort();
    expect(egressPorts).toEqual(overlay === 'dev' ? [53, 53, 5432, 6379, 8080] : [443, 53, 53, 5432, 6379, 6380]);
  });

  it('proxies Server-Sent Events on ingress-nginx: no buffering, a read timeout far above the heartbeat, no stickiness', () => {
    const ingress = one(docs, 'Ingress');
    const annotations = ingress.metadata.annotations as Record<string, string>;
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(4 * Number(appConfigMap(docs).SSE_HEARTBEAT_SECONDS));
    expect(Object.keys(annotations).filter((k) => /affinity/.test(k))).toEqual([]);
    expect(ingress.spec.ingressClassName).toBe('nginx');
    const routed = ingressRoutes(docs);
    for (const path of [...APP_PAGES, '/assets/app.js', '/api/events', '/auth/callback']) expect(routed(path), path).toBe(true);
    for (const path of INTERNAL_PATHS) expect(routed(path), path).toBe(false);
  });

  it('splits the issuer correctly: the public one in KEYCLOAK_URL, the internal metadata URL only where Keycloak runs in the cluster', () => {
    const config = appConfigMap(docs);
    if (overlay === 'dev') {
      expect(config.OIDC_DISCOVERY_URL).toBe('http://keycloak:8080/realms/board');
      const keycloakEnv = Object.fromEntries(
        one(docs, 'Deployment', 'keycloak').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
      );
      expect(keycloakEnv.KC_HOSTNAME).toBe(config.KEYCLOAK_URL);
      expect(keycloakEnv.KC_HOSTNAME_BACKCHANNEL_DYNAMIC).toBe('true');
      expect(new URL(keycloakEnv.BOARD_BFF_URL).origin).toBe(new URL(config.BASE_URL!).origin);
      // Keycloak reaches the app through its Service: logout tokens, and admin actions (realm logout-all, push).
      expect(keycloakEnv.BOARD_BFF_BACKCHANNEL_LOGOUT_URL).toBe('http://board-bff/auth/backchannel-logout');
      expect(keycloakEnv.BOARD_BFF_ADMIN_URL).toBe(`http://board-bff${config.KEYCLOAK_ADMIN_PATH ?? '/auth/keycloak'}`);
    } else {
      expect(config.NODE_ENV).toBe('production');
      expect(config.KEYCLOAK_URL).toMatch(/^https:/);
      expect(config.BASE_URL).toMatch(/^https:/);
      expect(one(docs, 'Ingress').spec.tls[0].hosts).toEqual([new URL(config.BASE_URL!).hostname]);
    }
  });
});

describe('k8s probe and ingress paths against the real app', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  it('answers every probe path the manifests use with 200', async () => {
    const paths = new Set<string>();
    for (const docs of Object.values(rendered)) {
      const container = appContainer(docs);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) paths.add(container[probe].httpGet.path);
    }
    expect([...paths].sort()).toEqual(['/healthz', '/readyz']);
    for (const path of paths) {
      const response = await fetch(`${world.apps[0]!.url}${path}`);
      expect(response.status, path).toBe(200);
    }
  });

  it('serves its routes below the ingress paths and nothing the ingress hides', async () => {
    const url = world.apps[0]!.url;
    expect((await fetch(`${url}/api/session-status`)).status).toBe(200);
    expect((await fetch(`${url}/auth/login`, { redirect: 'manual' })).status).toBe(302);
    for (const path of INTERNAL_PATHS) expect((await fetch(`${url}${path}`)).status, path).toBe(200); // kept off the Ingress on purpose
  });

  it('serves the React app (built by the suite\'s globalSetup) on every page path the Ingress routes to it', async () => {
    const url = world.apps[0]!.url;
    const index = readFileSync(join(webDist, 'index.html'), 'utf8');
    for (const path of APP_PAGES) {
      const page = await fetch(`${url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.status, path).toBe(200);
      expect(await page.text(), path).toBe(index);
    }
    for (const asset of index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
      expect((await fetch(`${url}${asset[1]}`)).status, asset[1]).toBe(200);
    }
  });
});

/** Page paths of the React app (web/src/route.ts), one per kind of route. */
const APP_PAGES = ['/', '/posts/7', '/sessions'];
/** The app's operational endpoints, for the cluster only. */
const INTERNAL_PATHS = ['/healthz', '/readyz', '/metrics'];

/** Whether some Ingress path (Exact, or Prefix by whole path segments) routes `path` to the app. */
function ingressRoutes(docs: Manifest[]): (path: string) => boolean {
  const rules = one(docs, 'Ingress').spec.rules.flatMap((r: any) => r.http.paths) as Array<{ path: string; pathType: 'Exact' | 'Prefix' }>;
  return (path) =>
    rules.some((rule) =>
      rule.pathType === 'Exact' ? path === rule.path : path === rule.path || path.startsWith(rule.path.endsWith('/') ? rule.path : `${rule.path}/`),
    );
}

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}
