// The peer of the peer benchmark (test/bench/peer.ts): the closest Node library to this product,
// express-openid-connect 3, set up the way its README and EXAMPLES.md recommend for server-side
// sessions with back-channel logout: `auth()` with a connect-redis 7 store (here on ioredis, the
// client this product uses, with its defaults) reused as the back-channel logout store,
// `requiresAuth()` on the API route. Same idle and absolute lifetimes as board-bff's defaults.
// Configured only through the environment; prints its port when it listens. Never part of the app.
import { createServer } from 'node:http';
import express from 'express';
import RedisStore from 'connect-redis';
import { Redis } from 'ioredis';
import eoc from 'express-openid-connect';

const { auth, requiresAuth } = eoc;
const env = process.env;
const redis = new Redis(env.REDIS_URL);
// express-openid-connect 3.4 promisifies store methods by their arity: connect-redis 7's
// `async get(sid, cb = noop)` has arity 1, is taken for a promise API, and every session then reads
// as missing. A plain callback adapter (the express-session store shape) is what works.
const inner = new RedisStore({ client: redis, prefix: env.PREFIX });
const store = {
  get: (sid, cb) => void inner.get(sid, cb),
  set: (sid, session, cb) => void inner.set(sid, session, cb),
  destroy: (sid, cb) => void inner.destroy(sid, cb),
};
const app = express();
const server = createServer(app);
await new Promise((resolve) => server.listen(Number(env.PORT ?? 0), '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

app.use(
  auth({
    issuerBaseURL: env.ISSUER,
    baseURL,
    clientID: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    secret: env.SECRET,
    authRequired: false,
    authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    session: { store, rollingDuration: 1800, absoluteDuration: 43200 },
    backchannelLogout: true,
  }),
);
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.get('/api/user', requiresAuth(), (req, res) => {
  res.set('Cache-Control', 'no-store').json({ user: req.oidc.user });
});

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
});
process.stdout.write(`${server.address().port}\n`);
