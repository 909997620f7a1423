// Preloaded into benchmark replicas (never into the app): SIGUSR2 runs a full GC, so memory is
// read without garbage that simply has not been collected yet. `gc` is exposed only then, not with
// --expose-gc on the command line: V8 flags given at start change the flag hash V8 checks code
// cache against, and the server's code cache (dist/main.cjs.cache, src/start/codeCache.ts) would be
// rejected.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

process.on('SIGUSR2', () => {
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
});
