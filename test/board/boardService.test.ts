import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBoardRepository } from '../../src/board/boardRepository.js';
import { createBoardService, type BoardService } from '../../src/board/boardService.js';
import { createUserDirectory } from '../../src/board/userDirectory.js';
import { createDatabase } from '../../src/db/database.js';
import { topics } from '../../src/events/eventBus.js';
import { freePort as closedPort } from '../support/ports.js';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { authFor, captureLogger, createRecordingBus, silentLogger, testIssuer } from './support/boardTestKit.js';

const alice = authFor('alice', { name: 'Alice' });
const bob = authFor('bob', { name: 'Bob' });
const moderator = authFor('mona', { name: 'Mona', roles: ['board-admin'] });
const realmAdmin = authFor('rita', { name: 'Rita', roles: ['admin', 'offline_access'] });

const forbidden = { status: 403, code: 'forbidden' };
const notFound = { status: 404, code: 'not_found' };
const unavailableDatabase = { status: 503, code: 'temporarily_unavailable' };

describe('board service on PostgreSQL', () => {
  let database: ConnectedDatabase;
  let service: BoardService;
  const bus = createRecordingBus();
  const { log, lines } = captureLogger();

  beforeAll(async () => {
    database = await connectPostgresDatabase({ poolMax: 4 });
    service = createBoardService({
      repository: createBoardRepository(database.db),
      users: createUserDirectory({ db: database.db, log }),
      events: bus,
      log,
      moderatorRole: 'board-admin',
    });
  }, 60_000);

  afterAll(() => database?.close());

  beforeEach(() => {
    bus.published.length = 0;
    bus.failing = false;
  });

  const alicePost = () => service.createPost(alice, { title: 'Alice writes', body: 'Hello board' });

  describe('posts', () => {
    it('when an author creates a post, then she may edit it, others may not, and every stream hears post_created', async () => {
      const post = await alicePost();

      expect(post).toMatchObject({ title: 'Alice writes', author: { name: 'Alice' }, canEdit: true, commentCount: 0 });
      expect((await service.getPost(bob, post.id)).canEdit).toBe(false);
      expect(bus.of('board_changed')).toEqual([
        { topic: topics.broadcast, event: expect.objectContaining({ kind: 'post_created', postId: post.id }) },
      ]);
    });

    it('when someone else edits or deletes a post, then 403 and the post is unchanged and nothing is announced', async () => {
      const post = await alicePost();
      bus.published.length = 0;

      await expect(service.updatePost(bob, post.id, { title: 'Hijacked' })).rejects.toMatchObject(forbidden);
      await expect(service.deletePost(bob, post.id)).rejects.toMatchObject(forbidden);
      await expect(service.deletePost(realmAdmin, post.id)).rejects.toMatchObject(forbidden);

      expect((await service.getPost(alice, post.id)).title).toBe('Alice writes');
      expect(bus.published).toEqual([]);
    });

    it('when the author edits her post, then it changes and post_updated is announced', async () => {
      const post = await alicePost();

      const updated = await service.updatePost(alice, post.id, { body: 'Edited body' });

      expect(updated).toMatchObject({ id: post.id, title: 'Alice writes', body: 'Edited body', canEdit: true });
      expect(bus.of('board_changed').at(-1)?.event).toMatchObject({ kind: 'post_updated', postId: post.id });
    });

    it('when a moderator edits and then deletes another user\'s post, then both succeed and the post is gone', async () => {
      const post = await alicePost();

      const moderated = await service.updatePost(moderator, post.id, { title: 'Moderated' });
      await service.deletePost(moderator, post.id);

      expect(moderated).toMatchObject({ title: 'Moderated', canEdit: true, author: { name: 'Alice' } });
      await expect(service.getPost(alice, post.id)).rejects.toMatchObject(notFound);
      expect(bus.of('board_changed').at(-1)?.event).toMatchObject({ kind: 'post_deleted', postId: post.id });
    });

    it('when ids are unknown, then every operation answers 404', async () => {
      const missing = 987_654_321;

      await expect(service.getPost(alice, missing)).rejects.toMatchObject(notFound);
      await expect(service.updatePost(alice, missing, { title: 't' })).rejects.toMatchObject(notFound);
      await expect(service.deletePost(moderator, missing)).rejects.toMatchObject(notFound);
      await expect(service.addComment(alice, missing, { body: 'c' })).rejects.toMatchObject(notFound);
      await expect(service.updateComment(alice, missing, { body: 'c' })).rejects.toMatchObject(notFound);
      await expect(service.deleteComment(moderator, missing)).rejects.toMatchObject(notFound);
    });

    it('when the list is paged, then nextBeforeId continues where the page ended and is null on the last page', async () => {
      const ids = [];
      for (let i = 0; i < 3; i += 1) ids.push((await service.createPost(bob, { title: `p${i}`, body: 'b' })).id);

      const first = await service.listPosts(alice, { limit: 2, beforeId: undefined });
      const rest = await service.listPosts(alice, { limit: 100, beforeId: first.nextBeforeId! });

      expect(first.posts.map((p) => p.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextBeforeId).toBe(ids[1]);
      expect(rest.posts[0]?.id).toBe(ids[0]);
      expect(rest.nextBeforeId).toBeNull();
      expect(first.posts.every((p) => p.canEdit === false)).toBe(true);
    });
  });

  describe('comments', () => {
    it('when someone comments on another user\'s post, then the post author alone gets comment_created and everyone gets board_changed', async () => {
      const post = await alicePost();
      bus.published.length = 0;

      const comment = await service.addComment(bob, post.id, { body: 'Nice   post,\n Alice!' });

      expect(comment).toMatchObject({ postId: post.id, body: 'Nice   post,\n Alice!', author: { name: 'Bob' }, canEdit: true });
      expect(comment).not.toHaveProperty('post');
      expect(bus.of('comment_created')).toEqual([
        {
          topic: topics.user(testIssuer, 'alice'),
          event: expect.objectContaining({
            type: 'comment_created',
            postId: post.id,
            postTitle: 'Alice writes',
            commentId: comment.id,
            commenter: { id: comment.author.id, name: 'Bob' },
            excerpt: 'Nice post, Alice!',
          }),
        },
      ]);
      expect(bus.of('board_changed').map((p) => p.event)).toEqual([
        expect.objectContaining({ kind: 'comment_created', postId: post.id, commentId: comment.id }),
      ]);
    });

    it('when the author comments on her own post, then she is not notified about herself', async () => {
      const post = await alicePost();

      await service.addComment(alice, post.id, { body: 'Adding context' });

      expect(bus.of('comment_created')).toEqual([]);
      expect(bus.of('board_changed').at(-1)?.event).toMatchObject({ kind: 'comment_created' });
    });

    it('when a comment is long, then the notification excerpt is cut to 140 characters', async () => {
      const post = await alicePost();

      await service.addComment(bob, post.id, { body: 'é'.repeat(500) });

      const excerpt = bus.of('comment_created')[0]!.event.excerpt as string;
      expect([...excerpt]).toHaveLength(140);
      expect(excerpt.endsWith('…')).toBe(true);
    });

    it('when a post is read, then its comments come oldest first with canEdit for the viewer', async () => {
      const post = await alicePost();
      await service.addComment(bob, post.id, { body: 'first' });
      await service.addComment(alice, post.id, { body: 'second' });

      const asBob = await service.getPost(bob, post.id);

      expect(asBob.comments.map((c) => [c.body, c.canEdit])).toEqual([
        ['first', true],
        ['second', false],
      ]);
      expect(asBob.commentCount).toBe(2);
    });

    it('when someone else edits or deletes a comment, then 403; the author and a moderator may', async () => {
      const post = await alicePost();
      const comment = await service.addComment(bob, post.id, { body: 'mine' });

      await expect(service.updateComment(alice, comment.id, { body: 'not yours' })).rejects.toMatchObject(forbidden);
      await expect(service.deleteComment(alice, comment.id)).rejects.toMatchObject(forbidden);
      const edited = await service.updateComment(bob, comment.id, { body: 'mine, edited' });
      await service.deleteComment(moderator, comment.id);

      expect(edited.body).toBe('mine, edited');
      expect(bus.of('board_changed').slice(-2).map((p) => p.event.kind)).toEqual(['comment_updated', 'comment_deleted']);
      expect((await service.getPost(alice, post.id)).comments).toEqual([]);
    });
  });

  describe('when a dependency fails', () => {
    it('when the event bus is down, then the write still succeeds and the lost event is logged', async () => {
      bus.failing = true;

      const post = await alicePost();

      expect(post.id).toBeGreaterThan(0);
      expect(lines().some((line) => line.msg === 'board event not published' && line.type === 'board_changed')).toBe(true);
    });

    it('when the schema is not migrated yet, then the board answers 503 without querying', async () => {
      const notReady = createBoardService({
        repository: createBoardRepository(database.db),
        users: createUserDirectory({ db: database.db, log: silentLogger() }),
        events: bus,
        log: silentLogger(),
        moderatorRole: 'board-admin',
        isSchemaReady: () => false,
      });

      await expect(notReady.listPosts(alice, { limit: 10, beforeId: undefined })).rejects.toMatchObject(unavailableDatabase);
    });

    it('when the database is unreachable, then reads and writes answer 503 unavailable, not 500', async () => {
      const dead = await createDatabase(
        databaseSettings({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, poolMax: 1 }),
        silentLogger(),
      );
      const offline = createBoardService({
        repository: createBoardRepository(dead),
        users: createUserDirectory({ db: dead, log: silentLogger() }),
        events: bus,
        log: silentLogger(),
        moderatorRole: 'board-admin',
      });
      try {
        await expect(offline.listPosts(alice, { limit: 10, beforeId: undefined })).rejects.toMatchObject(unavailableDatabase);
        await expect(offline.createPost(alice, { title: 't', body: 'b' })).rejects.toMatchObject(unavailableDatabase);
        expect(bus.published).toEqual([]);
      } finally {
        await dead.close();
      }
    });
  });
});
