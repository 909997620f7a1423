import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { serverStderr } from '../support/tsxStderr.js';

const minimal = { OIDC_ISSUER: 'http://127.0.0.1:9/realms/board', CLIENT_ID: 'board-bff', CLIENT_SECRET: 's3cret' };

describe('server start-up', () => {
  it('when the port is already in use, then it prints one line and exits 1 at once', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const started = Date.now();
    try {
      const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: { PATH: process.env.PATH, ...minimal, HOST: '127.0.0.1', PORT: String(port) },
        timeout: 30_000,
      }).then(
        () => undefined,
        (err: { code: number | null; signal: string | null; stdout: string; stderr: string }) => err,
      );
      const elapsedMs = Date.now() - started;
      console.log(`port in use: exit ${failure?.code} after ${elapsedMs} ms`);
      expect(failure?.signal ?? null).toBeNull();
      expect(failure?.code).toBe(1);
      expect(serverStderr(failure?.stderr ?? '').trim()).toBe(`board-bff: cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE)`);
      expect(failure?.stdout).toBe('');
      // Not the embedded database's start-up, nor a lingering process: well under its ~4 s.
      expect(elapsedMs).toBeLessThan(8_000);
    } finally {
      holder.close();
    }
  });
});
