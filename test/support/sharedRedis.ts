import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const LOCAL_REDIS = 'redis://127.0.0.1:6379';

/**
 * Real Redis for the tests, chosen in this order: TEST_REDIS_URL or REDIS_URL; the server a
 * developer machine (and CI here) runs on 127.0.0.1:6379; a throw-away container if a Docker engine
 * answers; otherwise a failure that says what to start. Never a fake. (PostgreSQL: postgresServer.ts.)
 */
export function redisUrlForTests(): Promise<string> {
  return (chosen ??= choose());
}

let chosen: Promise<string> | undefined;

async function choose(): Promise<string> {
  const fromEnv = process.env.TEST_REDIS_URL?.trim() || process.env.REDIS_URL?.trim();
  if (fromEnv) return fromEnv;
  if (await portAnswers(6379)) return LOCAL_REDIS;
  if (await dockerAnswers()) {
    const { GenericContainer } = await import('testcontainers');
    const started = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    return `redis://${started.getHost()}:${started.getMappedPort(6379)}`;
  }
  throw new Error(
    'Redis is required for the tests: set REDIS_URL (or TEST_REDIS_URL), or start redis-server on 127.0.0.1:6379 ' +
      '(Debian: redis-server --daemonize yes --port 6379). No Docker engine answered either, so testcontainers cannot start one.',
  );
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
