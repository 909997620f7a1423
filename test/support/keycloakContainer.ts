import { randomBytes } from 'node:crypto';
import { KeycloakAdmin } from './keycloakAdmin.js';
import { DEFAULT_KEYCLOAK_VERSION, REALM, REALM_FILE, realmVariables, waitForRealm, type KeycloakServer, type RealmSettings } from './keycloak.js';

/**
 * Keycloak in a container, used when a Docker engine answers (developer machines, not this CI: its
 * machines have the docker client but no engine). The app replicas run on the host, so Keycloak
 * reaches their back-channel endpoint through testcontainers' host-port tunnel.
 */
export async function dockerAvailable(): Promise<true | string> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function startKeycloakContainer(settings: RealmSettings): Promise<KeycloakServer> {
  const { GenericContainer, TestContainers, Wait } = await import('testcontainers');
  const version = process.env.KEYCLOAK_VERSION ?? DEFAULT_KEYCLOAK_VERSION;
  const image = process.env.KEYCLOAK_IMAGE ?? `quay.io/keycloak/keycloak:${version}`;
  const backchannelPort = Number(new URL(settings.backchannelLogoutUrl).port);
  await TestContainers.exposeHostPorts(backchannelPort);

  const password = randomBytes(12).toString('hex');
  const started = Date.now();
  const container = await new GenericContainer(image)
    .withEnvironment({
      KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
      KC_BOOTSTRAP_ADMIN_PASSWORD: password,
      KC_HEALTH_ENABLED: 'true',
      ...realmVariables(settings, 'host.testcontainers.internal'),
    })
    .withCopyFilesToContainer([{ source: REALM_FILE, target: '/opt/keycloak/data/import/board-realm.json' }])
    .withCommand(['start-dev', '--import-realm'])
    .withExposedPorts(8080, 9000)
    .withWaitStrategy(Wait.forHttp('/health/ready', 9000).withStartupTimeout(300_000))
    .start();

  // "localhost" rather than 127.0.0.1 when the engine is local: the app is on 127.0.0.1, and a
  // different host makes the provider cross-site to the app, as in production.
  const host = container.getHost() === '127.0.0.1' ? 'localhost' : container.getHost();
  const url = `http://${host}:${container.getMappedPort(8080)}`;
  await waitForRealm(url, 60_000);
  const admin = { url, username: 'admin', password };
  return {
    url,
    issuer: `${url}/realms/${REALM}`,
    version: await new KeycloakAdmin(admin, REALM).serverVersion(),
    source: `container ${image}, started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    admin,
    stop: async () => {
      await container.stop();
    },
  };
}
