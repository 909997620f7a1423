import { randomUUID } from 'node:crypto';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { startFlags } from '../../scripts/buildServer.js';
import { startReplica, type Replica } from './replicas.js';
import { seedSessions } from './seedSessions.js';

const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';

export interface SingleReplica {
  replica: Replica;
  /** Signed-in sessions written straight into Redis: `{ cookie }` each. */
  seed(count: number): ReturnType<typeof seedSessions>;
  stop(): Promise<void>;
}

/**
 * One replica (the built server) on local Redis and PostgreSQL, signed in against the development
 * provider: the set-up the board and memory benchmarks share. `nodeArgs` go to the replica's node
 * after `npm start`'s own flags.
 */
export async function startSingleReplica(nodeArgs: string[] = []): Promise<SingleReplica> {
  const redisUrl = await redisUrlForTests();
  const database = await createPostgresDatabase();
  const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const replica = await startReplica(
    {
      OIDC_ISSUER: op.issuer,
      CLIENT_ID,
      CLIENT_SECRET,
      SESSION_SECRET: SECRET,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      DATABASE_URL: database.url,
      LIVENESS_INTERVAL_SECONDS: '0',
    },
    [...startFlags(), ...nodeArgs],
  );
  return {
    replica,
    seed: (count) => seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count }),
    async stop() {
      await replica.stop();
      await op.close();
      await database.drop();
    },
  };
}
