import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

/**
 * Real Redis and PostgreSQL for the tests, chosen in this order: an env URL; the server a developer
 * machine (and CI here) runs on its standard loopback port; a throw-away container if a Docker
 * engine answers; otherwise a failure that says what to start. Never a fake.
 */
export async function redisUrlForTests(): Promise<string> {
  return (redis ??= choose({
    envNames: ['TEST_REDIS_URL', 'REDIS_URL'],
    local: { port: 6379, url: 'redis://127.0.0.1:6379' },
    container: async () => {
      const { GenericContainer } = await import('testcontainers');
      const started = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
      return `redis://${started.getHost()}:${started.getMappedPort(6379)}`;
    },
    missing: 'Redis is required: set REDIS_URL (or TEST_REDIS_URL), or start redis-server on 127.0.0.1:6379',
  }));
}

/** A URL of a PostgreSQL server database the tests may create databases from. */
export async function postgresUrlForTests(): Promise<string> {
  return (postgres ??= choose({
    envNames: ['TEST_DATABASE_URL', 'DATABASE_URL'],
    local: { port: 5432, url: 'postgres://postgres@127.0.0.1:5432/test' },
    container: async () => {
      const { GenericContainer } = await import('testcontainers');
      const started = await new GenericContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_PASSWORD: 'test', POSTGRES_DB: 'test' })
        .withExposedPorts(5432)
        .start();
      return `postgres://postgres:test@${started.getHost()}:${started.getMappedPort(5432)}/test`;
    },
    missing: 'PostgreSQL is required: set DATABASE_URL (or TEST_DATABASE_URL), or start PostgreSQL on 127.0.0.1:5432 (trust auth, database "test")',
  }));
}

let redis: Promise<string> | undefined;
let postgres: Promise<string> | undefined;

async function choose(options: {
  envNames: string[];
  local: { port: number; url: string };
  container: () => Promise<string>;
  missing: string;
}): Promise<string> {
  for (const name of options.envNames) {
    const value = process.env[name]?.trim();
    if (value) return value;
  }
  if (await portAnswers(options.local.port)) return options.local.url;
  if (await dockerAnswers()) return options.container();
  throw new Error(`${options.missing}. No Docker engine answered either, so testcontainers cannot start one.`);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
