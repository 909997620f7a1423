import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/**
 * Starts a Redis binary of the test's own (`redis-server`, or a sentinel) that is to listen on
 * loopback `port`, and resolves once it answers PING. Fails, naming the Debian package, when the
 * binary is missing; with its exit code when it exits first; after 10 s without an answer. Stop
 * it by its PID (stopProcess), never by name.
 */
export async function startRedisProcess(command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + 10_000;
  while (!(await pings(port))) {
    if (spawnError) {
      throw new Error(
        `these tests start a ${command} of their own (never the shared server), and it could not be started: ${spawnError.message}. ` +
          `Debian: apt-get install ${command === 'redis-sentinel' ? 'redis-sentinel' : 'redis-server'}`,
      );
    }
    if (child.exitCode !== null) throw new Error(`${command} on port ${port} exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} on port ${port} did not answer PING`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
