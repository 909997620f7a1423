import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startRedisProcess } from './redisProcess.js';

/**
 * A redis-server of the test's own on a free loopback port (AOF on, so a kill and restart keeps
 * what was acknowledged), for tests that stop, stall or kill Redis: never the shared server.
 * Stopped by its PID only.
 */
export interface OwnRedis {
  url: string;
  port: number;
  /** SIGSTOP: the server holds its connections but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, as a crash: connections drop, nothing more is written. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory (replays the AOF). */
  restart(): Promise<void>;
  /** Runs one command on a connection of its own; resolves with the first line of the reply. */
  command(args: string[]): Promise<string>;
  /** Every command the server executes from now on (`MONITOR`), as raw lines. */
  monitor(): Promise<Monitor>;
  stop(): Promise<void>;
}

export interface Monitor {
  lines: string[];
  close(): void;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'board-bff-redis-'));
  let child: ChildProcess | undefined;
  const monitors = new Set<Socket>();

  const start = async () => {
    child = await startRedisProcess(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      port,
    );
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGCONT');
    current.kill('SIGKILL');
    await exited;
  };
  // Should the test process end without stop() (a worker torn down early), the server goes with it.
  const onExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  await start();

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill,
    restart: start,
    command: (args) =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
        socket.once('data', (chunk) => {
          socket.destroy();
          resolve(chunk.toString().split('\r\n')[0]!);
        });
        socket.once('error', reject);
      }),
    async monitor() {
      const socket = connect(port, '127.0.0.1');
      monitors.add(socket);
      const lines: string[] = [];
      let buffer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        const parts = buffer.split('\r\n');
        buffer = parts.pop()!;
        lines.push(...parts.filter((line) => line !== '+OK'));
      });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('MONITOR\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { lines, close: () => socket.destroy() };
    },
    async stop() {
      for (const socket of monitors) socket.destroy();
      await kill();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
