const ESBUILD_SERVICE_CRASH = 'fatal error: all goroutines are asleep - deadlock!';

/**
 * What a process run through tsx (`node --import tsx src/server.ts`) wrote to stderr, without the
 * crash dump of tsx's esbuild service. When the process exits at once (a start-up failure's
 * `process.exit`), that service sometimes dies on its closed pipe, printing this line and its
 * goroutines to the same stderr, after everything the process wrote (evanw/esbuild#3635, #4503;
 * seen in CI). That text is the test runner's, not the server's: the server's own lines stay
 * checked exactly, and `npm start` runs no esbuild.
 */
export function serverStderr(stderr: string): string {
  const at = stderr.indexOf(ESBUILD_SERVICE_CRASH);
  return at < 0 ? stderr : stderr.slice(0, at);
}
