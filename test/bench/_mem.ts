import { startDevProvider } from '../../dev/oidcProvider.js';
import { startTestApp, TEST_SESSION_SECRET } from '../support/testApp.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { seedSessions } from './seedSessions.js';
import { openRawStream } from './sseSockets.js';
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const prefix = `mem${Date.now()}:`;
const db = await createTestDatabase();
const app = await startTestApp({ issuer: op.issuer, env: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', DATABASE_URL: db.url } });
const N = 3000;
const sessions = await seedSessions({ redisUrl: 'redis://127.0.0.1:6379', prefix, issuer: op.issuer, secret: TEST_SESSION_SECRET, count: N + 100 });
const gc = (globalThis as any).gc as () => void;
const warm = sessions.slice(0, 100).map((s) => openRawStream(app.url, s.cookie)); await Promise.all(warm.map((w) => w.connected)); warm.forEach((w) => w.socket.destroy());
await new Promise((r) => setTimeout(r, 500)); gc(); gc();
const m0 = process.memoryUsage();
const streams = [];
for (let i = 100; i < N + 100; i += 200) { const b = sessions.slice(i, i + 200).map((s) => openRawStream(app.url, s.cookie)); await Promise.all(b.map((x) => x.connected)); streams.push(...b); }
await new Promise((r) => setTimeout(r, 500)); gc(); gc();
const m1 = process.memoryUsage();
// client side alone: destroy server streams? measure client socket cost separately by closing server side
console.log('heapUsed/stream', Math.round((m1.heapUsed - m0.heapUsed) / N), 'external/stream', Math.round((m1.external - m0.external) / N));
process.exit(0);
