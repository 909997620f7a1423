// Preloaded (NODE_OPTIONS=--import) into a built server by test/deploy/builtServer.test.ts: as the
// process exits, writes Node's list of the built-in modules it loaded to LOADED_MODULES_FILE.
import { writeFileSync } from 'node:fs';

process.once('exit', () => writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(process.moduleLoadList)));
