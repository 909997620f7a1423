import { main } from './main.js';

// The process as `npm run dev` and the tests run it (TypeScript through tsx); `npm start` runs the
// same main() from the bundle (src/start/bundleEntry.ts).
await main();
