import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoard } from '../../src/board/board.js';
import { freePort as closedPort } from '../support/ports.js';
import { createPostgresDatabase, type PostgresDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { authFor, createRecordingBus, silentLogger } from './support/boardTestKit.js';

describe('board assembly', () => {
  let testDb: PostgresDatabase;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  it('when started against a reachable database, then it migrates, reports ready and serves the board', async () => {
    const board = await createBoard({
      database: databaseSettings({ url: testDb.url, poolMax: 2 }),
      moderatorRole: 'board-admin',
      events: createRecordingBus(),
      log: silentLogger(),
    });
    try {
      await board.schema.ready;

      await expect(board.ready()).resolves.toBeUndefined();
      const post = await board.service.createPost(authFor('zoe'), { title: 'Up', body: 'and running' });
      expect(post.canEdit).toBe(true);
    } finally {
      await board.close();
    }
  });

  it('when started while the database is down, then start-up still succeeds, readiness fails and the board answers 503', async () => {
    const board = await createBoard({
      database: databaseSettings({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, poolMax: 1 }),
      moderatorRole: 'board-admin',
      events: createRecordingBus(),
      log: silentLogger(),
    });
    try {
      expect(board.schema.status()).toBe('migrating');
      await expect(board.ready()).rejects.toThrow('database schema migrating');
      await expect(board.service.listPosts(authFor('zoe'), { limit: 5, beforeId: undefined })).rejects.toMatchObject({
        status: 503,
        code: 'temporarily_unavailable',
      });
    } finally {
      await board.close();
    }
  });
});
