import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeycloakAdmin } from './keycloakAdmin.js';
import { logTail } from './logTail.js';
import { freePort } from './ports.js';
import { DEFAULT_KEYCLOAK_VERSION, REALM, REALM_FILE, realmVariables, waitForRealm, type KeycloakServer, type RealmSettings } from './keycloak.js';

/**
 * Keycloak's Maven Central distribution, run with `kc.sh start-dev`. The unzipped distribution is
 * cached outside the repository by scripts/fetch-keycloak.sh; each run gets a throw-away "home"
 * whose bin/kc.sh is a copy (kc.sh derives the home from its own resolved path) and whose lib, conf,
 * providers and themes are links into the cache, so the dev H2 database, data/import and the
 * transaction logs of one run never reach the next one.
 */
const FETCH_SCRIPT = fileURLToPath(new URL('../../scripts/fetch-keycloak.sh', import.meta.url));
const START_TIMEOUT_MS = (Number(process.env.KEYCLOAK_START_TIMEOUT_SECONDS) || 300) * 1000;
/** Written once the cached dist has been re-built for dev mode (start-dev's first, slow, start). */
const AUGMENTED_MARKER = '.board-bff-dev-augmented';

export function javaVersion(javaHome: string | undefined): string {
  const java = javaHome ? join(javaHome, 'bin', 'java') : 'java';
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`no Java runtime (${java}): install a JDK 17+ or set KEYCLOAK_JAVA_HOME`);
  }
  const match = /version "([^"]+)"/.exec(result.stderr);
  const version = match?.[1] ?? 'unknown';
  const major = Number(version.startsWith('1.') ? version.split('.')[1] : version.split(/[.+-]/)[0]);
  if (!(major >= 17)) throw new Error(`Java ${version} at ${java} is too old: Keycloak 26 needs 17, 21 or 25`);
  return version;
}

function fetchDist(version: string): string {
  const result = spawnSync('bash', [FETCH_SCRIPT, version], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new Error(`scripts/fetch-keycloak.sh ${version} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
  return result.stdout.trim().split('\n').pop()!;
}

/** "Keycloak - Version 26.4.7" in the distribution's version.txt → "26.4.7". */
function distVersion(dist: string): string {
  const text = readFileSync(join(dist, 'version.txt'), 'utf8');
  const version = /Version\s+(\S+)/.exec(text)?.[1];
  if (!version) throw new Error(`no version in ${join(dist, 'version.txt')}`);
  return version;
}

function makeRunHome(dist: string): string {
  const home = mkdtempSync(join(tmpdir(), 'board-e2e-keycloak-'));
  mkdirSync(join(home, 'bin'));
  mkdirSync(join(home, 'data', 'import'), { recursive: true });
  copyFileSync(join(dist, 'bin', 'kc.sh'), join(home, 'bin', 'kc.sh'));
  for (const entry of ['lib', 'conf', 'providers', 'themes', 'version.txt']) {
    if (existsSync(join(dist, entry))) symlinkSync(join(dist, entry), join(home, entry));
  }
  copyFileSync(REALM_FILE, join(home, 'data', 'import', 'board-realm.json'));
  return home;
}

/**
 * start-dev re-builds the cached dist's lib/quarkus on its first start; two first starts at once
 * would write the same files. The first one holds a lock directory until it is up.
 */
async function lockFirstStart(dist: string): Promise<(succeeded: boolean) => void> {
  const marker = join(dist, AUGMENTED_MARKER);
  const lock = join(dist, '.board-bff-start.lock');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!existsSync(marker)) {
    try {
      mkdirSync(lock);
      return (succeeded) => {
        if (succeeded) writeFileSync(marker, new Date().toISOString());
        rmSync(lock, { recursive: true, force: true });
      };
    } catch {
      // Another run is doing the first start; a lock older than the start timeout is left over.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > START_TIMEOUT_MS || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  return () => undefined;
}

export async function startKeycloakDist(settings: RealmSettings): Promise<KeycloakServer> {
  const javaHome = process.env.KEYCLOAK_JAVA_HOME ?? process.env.JAVA_HOME;
  const java = javaVersion(javaHome);
  const version = process.env.KEYCLOAK_VERSION ?? DEFAULT_KEYCLOAK_VERSION;

  const fetchStarted = Date.now();
  const dist = fetchDist(version);
  const fetchMs = Date.now() - fetchStarted;

  const home = makeRunHome(dist);
  const logFile = join(home, 'keycloak.log');
  const [httpPort, managementPort] = [await freePort(), await freePort()];
  const admin = { url: `http://localhost:${httpPort}`, username: 'admin', password: randomBytes(12).toString('hex') };
  const releaseLock = await lockFirstStart(dist);
  const firstStart = !existsSync(join(dist, AUGMENTED_MARKER));

  const started = Date.now();
  const log = openSync(logFile, 'a');
  // detached: Keycloak gets its own process group, so stop() can end kc.sh and its java together.
  const child = spawn(
    'sh',
    [
      join(home, 'bin', 'kc.sh'),
      'start-dev',
      '--http-host=127.0.0.1',
      `--http-port=${httpPort}`,
      `--http-management-port=${managementPort}`,
      '--import-realm',
    ],
    {
      cwd: home,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        ...(javaHome ? { JAVA_HOME: javaHome } : {}),
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        KC_HEALTH_ENABLED: 'true',
        // As in docker-compose.yml: a fixed public URL (the one every test uses), while a back-end
        // caller reaching the server at another address gets endpoints on that address.
        KC_HOSTNAME: admin.url,
        KC_HOSTNAME_BACKCHANNEL_DYNAMIC: 'true',
        ...realmVariables(settings),
      },
    },
  );
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = `Keycloak exited (${signal ?? `code ${code}`}) before it was ready. Last lines of ${logFile}:\n${logTail(logFile, 40)}`;
      resolve();
    }),
  );
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // If the test runner dies without teardown, do not leave a JVM behind.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (exited === undefined) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 20_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    if (process.env.KEYCLOAK_TEST_KEEP !== '1') rmSync(home, { recursive: true, force: true });
  };

  try {
    await waitForRealm(admin.url, START_TIMEOUT_MS, () => exited);
  } catch (error) {
    releaseLock(false);
    const message = exited ?? `${(error as Error).message}\nLast lines of ${logFile}:\n${logTail(logFile, 40)}`;
    await stop();
    throw new Error(message);
  }
  releaseLock(true);
  const readyMs = Date.now() - started;
  // 26.4's serverinfo holds no systemInfo: the distribution names its version too.
  const running = await new KeycloakAdmin(admin, REALM).serverVersion().catch(() => distVersion(dist));
  return {
    url: admin.url,
    issuer: `${admin.url}/realms/${REALM}`,
    version: running,
    source:
      `Maven Central distribution ${dist} on Java ${java}; ` +
      `fetch/cache check ${(fetchMs / 1000).toFixed(1)} s, ${firstStart ? 'first start (dev re-build)' : 'start'} ` +
      `${(readyMs / 1000).toFixed(1)} s`,
    admin,
    stop,
  };
}
