import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on right now (bound, read, released): for a server to start on,
 * or, left unused, as a dead peer that refuses connections.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
