import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** Reading and rendering the deployment files exactly as an operator's tools would. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> }; [key: string]: any };

/** The absolute path of a tool, or a failure that says which package provides it (never a skip). */
export function requireTool(name: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error(`${name} is not installed: the deployment checks need it (Debian package "${debianPackage}"; .ci/run installs it)`);
  }
  return path;
}

/** Every environment-variable name src/config/ reads: the first argument of each of its reading helpers. */
export function configSettingNames(): Set<string> {
  const folder = join(ROOT, 'src/config');
  const source = readdirSync(folder)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(folder, file), 'utf8'))
    .join('\n');
  const names = [...source.matchAll(/\b[a-zA-Z]+\('([A-Z][A-Z0-9_]{2,})'/g)].map((m) => m[1]!);
  if (names.length < 20) throw new Error(`found only ${names.length} setting names in src/config/: has its reader changed?`);
  return new Set(names);
}

/**
 * src/server.ts exits by itself at the latest this long after SHUTDOWN_DELAY_SECONDS +
 * SHUTDOWN_GRACE_SECONDS (when closing Redis or the pool hangs); an orchestrator must wait that long.
 */
export const APP_EXIT_MARGIN_SECONDS = 5;

export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/**
 * `kubectl kustomize k8s/overlays/<overlay>` on a copy of the repository's deployable folders, where each
 * git-ignored secrets file is made from its committed `.example` (what an operator does first).
 */
export function renderOverlay(overlay: Overlay): Manifest[] {
  const kubectl = requireTool('kubectl', 'kubectl');
  const work = mkdtempSync(join(tmpdir(), 'board-kustomize-'));
  try {
    for (const dir of ['k8s', 'keycloak']) cpSync(join(ROOT, dir), join(work, dir), { recursive: true });
    const overlayDir = join(work, 'k8s', 'overlays', overlay);
    for (const file of readdirSync(overlayDir)) {
      if (file.endsWith('.env.example')) cpSync(join(overlayDir, file), join(overlayDir, file.replace(/\.example$/, '')));
    }
    const output = execFileSync(kubectl, ['kustomize', overlayDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(output).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`kustomize output of ${overlay} is not YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `docker-compose config` with `.env.example` as the environment file: the compose model as Compose sees it. */
export function composeConfig(): { services: Record<string, any>; volumes?: Record<string, unknown> } {
  const compose = requireTool('docker-compose', 'docker-compose');
  const output = execFileSync(compose, ['--env-file', join(ROOT, '.env.example'), '-f', join(ROOT, 'docker-compose.yml'), 'config'], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(output)[0]!.toJS();
}

/** A compose volume as `source:target`, whichever syntax docker-compose printed. */
export function volumeMount(volume: string | { source: string; target: string }): string {
  return typeof volume === 'string' ? volume.split(':').slice(0, 2).join(':') : `${volume.source}:${volume.target}`;
}

/** Files git tracks (or would, being not ignored) below `paths`. */
export function committedFiles(paths: string[]): string[] {
  const output = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...paths], { cwd: ROOT, encoding: 'utf8' });
  return output.split('\n').filter((file) => file && existsSync(join(ROOT, file)));
}

export function isIgnored(path: string): boolean {
  return spawnSync('git', ['check-ignore', '-q', path], { cwd: ROOT }).status === 0;
}

/** Seconds of a `sleep N` preStop hook (the only form the manifests use). */
export function preStopSeconds(container: any): number {
  const command: unknown = container.lifecycle?.preStop?.exec?.command;
  if (Array.isArray(command) && command[0] === 'sleep' && /^\d+$/.test(String(command[1]))) return Number(command[1]);
  if (container.lifecycle?.preStop?.sleep?.seconds !== undefined) return Number(container.lifecycle.preStop.sleep.seconds);
  throw new Error(`container ${container.name} has no preStop sleep: ${JSON.stringify(container.lifecycle)}`);
}
