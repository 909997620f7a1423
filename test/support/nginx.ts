import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Debian's nginx running the very config file docker-compose.yml mounts (deploy/nginx/board-bff.conf),
 * as a process of this test run: its own prefix, pid file and logs, never the system service. The file
 * is changed only where a container name or port stands (listen ports, upstream addresses); each of
 * those rewrites must match exactly once, so a config that changes shape fails here instead of being
 * tested half-rewritten.
 */
export const NGINX = '/usr/sbin/nginx';
export const NGINX_CONFIG = fileURLToPath(new URL('../../deploy/nginx/board-bff.conf', import.meta.url));

export interface NginxTopology {
  /** Loopback port for the app's public URL (compose: 8080). */
  appPort: number;
  /** Loopback port for Keycloak's public URL (compose: 8081). */
  keycloakPort: number;
  /** host:port of replica A and replica B (compose: app1:3001, app2:3001). */
  replicas: [string, string];
  /** host:port of Keycloak's own listener (compose: keycloak:8080). */
  keycloak: string;
}

export function assertNginxInstalled(): void {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: the proxy tests need Debian's nginx (apt-get install nginx; .ci/run installs it)`);
}

export function templateNginxConfig(topology: NginxTopology, source = readFileSync(NGINX_CONFIG, 'utf8')): string {
  const rewrites: Array<[string, string]> = [
    ['listen 8080;', `listen 127.0.0.1:${topology.appPort};`],
    ['listen 8081;', `listen 127.0.0.1:${topology.keycloakPort};`],
    ['server app1:3001 ', `server ${topology.replicas[0]} `],
    ['server app2:3001 ', `server ${topology.replicas[1]} `],
    ['server keycloak:8080;', `server ${topology.keycloak};`],
  ];
  let text = source;
  for (const [from, to] of rewrites) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${NGINX_CONFIG}: expected "${from}" exactly once, found it ${count} times`);
    text = text.replace(from, to);
  }
  return text;
}

/** A prefix folder with the main nginx.conf (the part the nginx image provides) around the templated file. */
export function writeNginxPrefix(topology: NginxTopology): { prefix: string; conf: string } {
  const prefix = mkdtempSync(join(tmpdir(), 'board-nginx-'));
  // Workers drop to "nobody" when the master runs as root: they must reach the temp folders.
  chmodSync(prefix, 0o755);
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(prefix, 'tmp', dir), { recursive: true });
    chmodSync(join(prefix, 'tmp', dir), 0o777);
  }
  writeFileSync(join(prefix, 'board-bff.conf'), templateNginxConfig(topology));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  log_format upstream '$server_port $remote_addr "$request" $status upstream=$upstream_addr upstream_status=$upstream_status time=$request_time';
  access_log ${prefix}/access.log upstream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  include ${prefix}/board-bff.conf;
}
`,
  );
  return { prefix, conf };
}

/** `nginx -t` on the templated config: its syntax and every directive as this nginx understands them. */
export function testNginxConfig(topology: NginxTopology): { ok: boolean; output: string } {
  assertNginxInstalled();
  const { prefix, conf } = writeNginxPrefix(topology);
  try {
    const result = spawnSync(NGINX, ['-t', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf], { encoding: 'utf8' });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

export interface NginxProcess {
  appUrl: string;
  keycloakUrl: string;
  prefix: string;
  child: ChildProcess;
  /** Lines of the access log so far: `<listen port> <client> "<request>" <status> upstream=<addr> …`. */
  accessLog(): string[];
  errorLog(): string;
  stop(): Promise<void>;
}

export async function startNginx(topology: NginxTopology): Promise<NginxProcess> {
  assertNginxInstalled();
  const { prefix, conf } = writeNginxPrefix(topology);
  const child = spawn(NGINX, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const read = (file: string) => (existsSync(join(prefix, file)) ? readFileSync(join(prefix, file), 'utf8') : '');
  const appUrl = `http://127.0.0.1:${topology.appPort}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGQUIT'); // graceful: workers finish their requests
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${read('error.log')}`);
    const answered = await fetch(`${appUrl}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not answer on ${appUrl}: ${stderr}${read('error.log')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    appUrl,
    keycloakUrl: `http://127.0.0.1:${topology.keycloakPort}`,
    prefix,
    child,
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    errorLog: () => read('error.log'),
    stop: async () => {
      await stop();
      if (process.env.NGINX_TEST_KEEP !== '1') rmSync(prefix, { recursive: true, force: true });
    },
  };
}
