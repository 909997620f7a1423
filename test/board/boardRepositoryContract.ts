import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createBoardRepository, type BoardRepository } from '../../src/board/boardRepository.js';
import { createUserDirectory, type UserDirectory } from '../../src/board/userDirectory.js';
import { authFor, silentLogger, testIssuer } from './support/boardTestKit.js';

/**
 * The repository and user-directory behaviour both drivers must share. Called from one test file per
 * driver with a migrated database; tests build their own rows and only assume ids grow.
 */
export function boardRepositoryContract(driver: string, getDb: () => Database): void {
  describe(`board repository on ${driver}`, () => {
    let repo: BoardRepository;
    let users: UserDirectory;
    const setup = () => {
      repo ??= createBoardRepository(getDb());
      users ??= createUserDirectory({ db: getDb(), log: silentLogger() });
      return { repo, users };
    };
    const author = async (sub: string, name?: string) => setup().users.userIdFor(authFor(sub, name ? { name } : {}));

    it('when a post is inserted, then it comes back with its author name, no comments and ISO timestamps', async () => {
      const { repo } = setup();
      const aliceId = await author('alice', 'Alice A.');

      const post = await repo.insertPost(aliceId, { title: 'Hello', body: 'First post' });

      expect(post).toMatchObject({ title: 'Hello', body: 'First post', author: { id: aliceId, name: 'Alice A.' }, commentCount: 0 });
      expect(post.id).toBeGreaterThan(0);
      expect(new Date(post.createdAt).toISOString()).toBe(post.createdAt);
      expect(await repo.findPost(post.id)).toEqual(post);
    });

    it('when text holds quotes, SQL and astral characters, then it is stored and read back verbatim', async () => {
      const { repo } = setup();
      const title = `${'😀'.repeat(176)}'); DROP TABLE posts; --`; // 200 code points, 376 UTF-16 units

      const post = await repo.insertPost(await author('alice'), { title, body: "O'Brien \\ $1" });

      expect(post.title).toBe(title);
      expect((await repo.findPost(post.id))?.body).toBe("O'Brien \\ $1");
    });

    it('when posts are listed, then they come newest first in pages that continue from the last id', async () => {
      const { repo } = setup();
      const bob = await author('bob');
      const created = [];
      for (let i = 1; i <= 5; i += 1) created.push(await repo.insertPost(bob, { title: `page ${i}`, body: 'b' }));
      const newestFirst = created.map((post) => post.id).reverse();

      const first = await repo.listPosts({ limit: 3, beforeId: undefined });
      const second = await repo.listPosts({ limit: 2, beforeId: first.at(-1)!.id });

      expect(first.map((post) => post.id)).toEqual(newestFirst.slice(0, 3));
      expect(second.map((post) => post.id)).toEqual(newestFirst.slice(3, 5));
    });

    it('when an unknown post or comment is asked for, then the answer is null or false, not an error', async () => {
      const { repo } = setup();
      const missing = 9_007_199_254_740_991;

      expect(await repo.findPost(missing)).toBeNull();
      expect(await repo.updatePost(missing, { title: 'x' })).toBeNull();
      expect(await repo.deletePost(missing)).toBe(false);
      expect(await repo.insertComment(missing, await author('bob'), 'hi')).toBeNull();
      expect(await repo.findComment(missing)).toBeNull();
      expect(await repo.updateComment(missing, 'x')).toBeNull();
      expect(await repo.deleteComment(missing)).toBe(false);
    });

    it('when only the title is patched, then the body is kept and updatedAt moves on', async () => {
      const { repo } = setup();
      const post = await repo.insertPost(await author('carol'), { title: 'Before', body: 'Body stays' });

      const updated = await repo.updatePost(post.id, { title: 'After' });

      expect(updated).toMatchObject({ id: post.id, title: 'After', body: 'Body stays', createdAt: post.createdAt });
      expect(Date.parse(updated!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(post.updatedAt));
    });

    it('when comments are added, then they list oldest first, count on the post, and name the post author for notifications', async () => {
      const { repo } = setup();
      const alice = await author('alice');
      const bob = await author('bob');
      const post = await repo.insertPost(alice, { title: 'Discuss', body: 'b' });

      const first = await repo.insertComment(post.id, bob, 'one');
      const second = await repo.insertComment(post.id, alice, 'two');

      expect(first).toMatchObject({
        postId: post.id,
        body: 'one',
        author: { id: bob },
        post: { id: post.id, title: 'Discuss', authorId: alice, authorIssuer: testIssuer, authorSubject: 'alice' },
      });
      expect((await repo.listComments(post.id)).map((c) => c.body)).toEqual(['one', 'two']);
      expect((await repo.findPost(post.id))?.commentCount).toBe(2);
      expect(second!.id).toBeGreaterThan(first!.id);
    });

    it('when a comment is edited and then deleted, then reads follow', async () => {
      const { repo } = setup();
      const post = await repo.insertPost(await author('alice'), { title: 't', body: 'b' });
      const comment = (await repo.insertComment(post.id, await author('bob'), 'draft'))!;

      const edited = await repo.updateComment(comment.id, 'final');
      const deleted = await repo.deleteComment(comment.id);

      expect(edited).toMatchObject({ id: comment.id, body: 'final', postId: post.id });
      expect(deleted).toBe(true);
      expect(await repo.findComment(comment.id)).toBeNull();
    });

    it('when a post is deleted, then its comments go with it', async () => {
      const { repo } = setup();
      const post = await repo.insertPost(await author('alice'), { title: 't', body: 'b' });
      const comment = (await repo.insertComment(post.id, await author('bob'), 'gone soon'))!;

      expect(await repo.deletePost(post.id)).toBe(true);

      expect(await repo.findPost(post.id)).toBeNull();
      expect(await repo.findComment(comment.id)).toBeNull();
    });
  });

  describe(`user directory on ${driver}`, () => {
    const row = async (sub: string) =>
      (
        await getDb().query<{ id: number; username: string; display_name: string; email: string | null; last_login_at: Date }>(
          'SELECT id, username, display_name, email, last_login_at FROM users WHERE issuer = $1 AND subject = $2',
          [testIssuer, sub],
        )
      ).rows[0];

    it('when a user signs in twice with a changed profile, then one row holds the newest profile and login time', async () => {
      const users = createUserDirectory({ db: getDb(), log: silentLogger() });
      const identity = { issuer: testIssuer, sub: 'dora', username: 'dora', name: 'Dora', email: 'd@example.test' };

      await users.provisionUser(identity, new Date('2030-01-01T00:00:00Z'));
      await users.provisionUser({ ...identity, name: 'Dora Explorer', email: null }, new Date('2030-01-02T00:00:00Z'));

      expect(await row('dora')).toMatchObject({ username: 'dora', display_name: 'Dora Explorer', email: null });
      expect((await row('dora'))!.last_login_at.toISOString()).toBe('2030-01-02T00:00:00.000Z');
    });

    it('when an older session provisions late, then it does not overwrite the newer profile but still gets the id', async () => {
      const users = createUserDirectory({ db: getDb(), log: silentLogger() });
      await users.provisionUser({ issuer: testIssuer, sub: 'eve', username: 'eve', name: 'Eve New', email: null }, new Date('2030-02-02T00:00:00Z'));
      const stale = authFor('eve', { name: 'Eve Old', loginTime: '2030-02-01T00:00:00.000Z' });

      const id = await createUserDirectory({ db: getDb(), log: silentLogger() }).userIdFor(stale);

      expect(id).toBe(Number((await row('eve'))!.id));
      expect((await row('eve'))!.display_name).toBe('Eve New');
    });

    it('when a session user was never provisioned, then userIdFor creates the row from the session', async () => {
      const users = createUserDirectory({ db: getDb(), log: silentLogger() });

      const id = await users.userIdFor(authFor('frank', { name: 'Frank' }));

      expect(await row('frank')).toMatchObject({ display_name: 'Frank', username: 'frank' });
      expect(id).toBe(Number((await row('frank'))!.id));
    });

    it('when many first requests of one user arrive together, then they share one id', async () => {
      const users = createUserDirectory({ db: getDb(), log: silentLogger() });

      const ids = await Promise.all(Array.from({ length: 8 }, () => users.userIdFor(authFor('gina'))));

      expect(new Set(ids).size).toBe(1);
    });
  });
}
