// Node's lib/_http_common.js: internal, loadable as `_http_common`, no types shipped. The one
// function src/events/takeConnection.ts uses, as Node's upgrade path calls it.
declare module '_http_common' {
  /** Returns a connection's HTTP parser to Node's pool (or closes it) and unlinks it from the request and socket. */
  export function freeParser(parser: unknown, req: import('node:http').IncomingMessage | null, socket: import('node:net').Socket | null): void;
}
