import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_HTTP_SOCKET_EVENTS, takeConnection } from '../../src/events/takeConnection.js';

// takeConnection leans on node:http's internals (the socket's parser, `_http_common`'s freeParser,
// the events node:http listens to on a socket): these tests pin them, so a Node upgrade that
// changes them fails here rather than leaking or breaking streams.
describe('takeConnection', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it('when a request arrives, then node:http listens on its socket to no event takeConnection does not remove', async () => {
    let events: Array<string | symbol> = [];
    const url = await listen((req, res) => {
      events = req.socket.eventNames();
      res.end('ok');
    });
    expect((await fetch(url)).status).toBe(200);
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((event) => !(NODE_HTTP_SOCKET_EVENTS as readonly (string | symbol)[]).includes(event))).toEqual([]);
  });

  it('when a response takes its connection, then the head is close-delimited, the body is what the socket writes until it ends, and the response closes without finishing', async () => {
    const seen: string[] = [];
    const url = await listen((req, res) => {
      res.on('finish', () => seen.push('finish'));
      res.on('close', () => seen.push('close'));
      const socket = takeConnection(req, res, 200, { 'Content-Type': 'text/event-stream', 'X-Extra': 'yes' });
      socket.on('error', () => undefined);
      socket.write('data: one\n\n');
      setTimeout(() => socket.end('data: two\n\n'), 20);
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    expect(response.headers.get('transfer-encoding')).toBeNull();
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('x-extra')).toBe('yes');
    expect(response.headers.get('date')).not.toBeNull();
    expect(await response.text()).toBe('data: one\n\ndata: two\n\n');
    expect(seen).toEqual(['close']);
  });

  it('when a connection is taken, then node:http holds nothing of it: no parser, no listener wrappers, not among its connections, and the request and response can be collected', async () => {
    let taken: Socket | undefined;
    let parserLeft: unknown = 'unset';
    let wrapped: boolean | undefined;
    const collected: string[] = [];
    const registry = new FinalizationRegistry<string>((name) => collected.push(name));
    const url = await listen((req, res) => {
      registry.register(req, 'request');
      registry.register(res, 'response');
      const socket = takeConnection(req, res, 200, {});
      socket.on('error', () => undefined);
      socket.on('end', () => socket.destroy());
      socket.resume();
      socket.write('hello\n');
      setImmediate(() => {
        parserLeft = (socket as Socket & { parser: unknown }).parser;
        wrapped = socket.on !== Socket.prototype.on || socket.addListener !== Socket.prototype.addListener || socket.prependListener !== Socket.prototype.prependListener;
        taken = socket;
      });
    });
    const response = await fetch(url);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('hello\n');
    await expect.poll(() => taken).toBeDefined();
    expect(parserLeft).toBeNull();
    // node:http's per-socket wrappers of on/addListener/prependListener are gone too.
    expect(wrapped).toBe(false);
    // Node's connection tracking (idle and request timeouts, closeAllConnections) no longer sees it.
    server!.closeAllConnections();
    expect(taken!.destroyed).toBe(false);

    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await expect
      .poll(async () => {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
        return collected.sort();
      })
      .toEqual(['request', 'response']);

    const closed = new Promise((resolve) => taken!.once('close', resolve));
    await reader.cancel();
    await closed;
  });
});
