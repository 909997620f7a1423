import type { Queryable } from '../db/database.js';
import { sqlState } from '../db/databaseErrors.js';
import type { NewPost, PostPatch } from './boardInput.js';

export interface AuthorRef {
  /** Internal user id (never the provider's subject). */
  id: number;
  name: string;
}

export interface PostRecord {
  id: number;
  title: string;
  body: string;
  author: AuthorRef;
  commentCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface CommentRecord {
  id: number;
  postId: number;
  body: string;
  author: AuthorRef;
  createdAt: string;
  updatedAt: string;
}

/** A new comment plus what notifications need about the post it landed on. */
export interface CreatedComment extends CommentRecord {
  post: { id: number; title: string; authorId: number; authorIssuer: string; authorSubject: string };
}

export interface BoardRepository {
  /** Newest first (descending id, which is creation order), strictly older than `beforeId` when given. */
  listPosts(page: { limit: number; beforeId: number | undefined }): Promise<PostRecord[]>;
  findPost(id: number): Promise<PostRecord | null>;
  /** Oldest first, as a thread reads. */
  listComments(postId: number): Promise<CommentRecord[]>;
  insertPost(authorId: number, post: NewPost): Promise<PostRecord>;
  /** Null when the post does not exist (any more). */
  updatePost(id: number, patch: PostPatch): Promise<PostRecord | null>;
  /** False when there was nothing to delete. Its comments go with it (ON DELETE CASCADE). */
  deletePost(id: number): Promise<boolean>;
  /** Null when the post does not exist (any more). */
  insertComment(postId: number, authorId: number, body: string): Promise<CreatedComment | null>;
  findComment(id: number): Promise<CommentRecord | null>;
  updateComment(id: number, body: string): Promise<CommentRecord | null>;
  deleteComment(id: number): Promise<boolean>;
}

export const ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

interface PostRow {
  id: number | string;
  title: string;
  body: string;
  author_id: number | string;
  author_name: string;
  comment_count: number | string;
  created_at: string;
  updated_at: string;
}

interface CommentRow {
  id: number | string;
  post_id: number | string;
  body: string;
  author_id: number | string;
  author_name: string;
  created_at: string;
  updated_at: string;
}

interface CreatedCommentRow extends CommentRow {
  post_title: string;
  post_author_id: number | string;
  post_author_issuer: string;
  post_author_subject: string;
}

const commentCount = '(SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS comment_count';
/**
 * Timestamps leave PostgreSQL already in the API's ISO-8601 form: parsing them into Date objects and
 * formatting them back was a fifth of a post listing's CPU time.
 */
const isoTimes = (table: string) =>
  `to_char(${table}.created_at AT TIME ZONE 'UTC', '${ISO_FORMAT}') AS created_at, ` +
  `to_char(${table}.updated_at AT TIME ZONE 'UTC', '${ISO_FORMAT}') AS updated_at`;
const selectPosts = `
  SELECT p.id, p.title, p.body, p.author_id, u.display_name AS author_name, ${isoTimes('p')}, ${commentCount}
  FROM posts p JOIN users u ON u.id = p.author_id`;
/** Used after INSERT/UPDATE … RETURNING in a CTE named p, to add the author's name in the same round trip. */
const decoratePost = `
  SELECT p.id, p.title, p.body, p.author_id, u.display_name AS author_name, ${isoTimes('p')}, ${commentCount}
  FROM p JOIN users u ON u.id = p.author_id`;
const decorateComment = `
  SELECT c.id, c.post_id, c.body, c.author_id, u.display_name AS author_name, ${isoTimes('c')}
  FROM c JOIN users u ON u.id = c.author_id`;

/** The board's SQL: parameterised statements only, rows mapped to plain objects with ISO timestamps. */
export function createBoardRepository(db: Queryable): BoardRepository {
  return {
    async listPosts({ limit, beforeId }) {
      const { rows } =
        beforeId === undefined
          ? await db.query<PostRow>(`${selectPosts} ORDER BY p.id DESC LIMIT $1`, [limit])
          : await db.query<PostRow>(`${selectPosts} WHERE p.id < $1 ORDER BY p.id DESC LIMIT $2`, [beforeId, limit]);
      return rows.map(toPost);
    },

    async findPost(id) {
      const { rows } = await db.query<PostRow>(`${selectPosts} WHERE p.id = $1`, [id]);
      return rows[0] ? toPost(rows[0]) : null;
    },

    async listComments(postId) {
      const { rows } = await db.query<CommentRow>(
        `SELECT c.id, c.post_id, c.body, c.author_id, u.display_name AS author_name, ${isoTimes('c')}
         FROM comments c JOIN users u ON u.id = c.author_id WHERE c.post_id = $1 ORDER BY c.id`,
        [postId],
      );
      return rows.map(toComment);
    },

    async insertPost(authorId, post) {
      const { rows } = await db.query<PostRow>(
        `WITH p AS (INSERT INTO posts (author_id, title, body) VALUES ($1, $2, $3) RETURNING *) ${decoratePost}`,
        [authorId, post.title, post.body],
      );
      return toPost(rows[0]!);
    },

    async updatePost(id, patch) {
      const { rows } = await db.query<PostRow>(
        `WITH p AS (
           UPDATE posts SET title = COALESCE($2::text, title), body = COALESCE($3::text, body), updated_at = now()
           WHERE id = $1 RETURNING *
         ) ${decoratePost}`,
        [id, patch.title ?? null, patch.body ?? null],
      );
      return rows[0] ? toPost(rows[0]) : null;
    },

    async deletePost(id) {
      const { rowCount } = await db.query('DELETE FROM posts WHERE id = $1', [id]);
      return rowCount > 0;
    },

    async insertComment(postId, authorId, body) {
      try {
        // One round trip: insert only if the post exists, and return who wrote the post for the notification.
        const { rows } = await db.query<CreatedCommentRow>(
          `WITH target AS (
             SELECT p.id, p.title, p.author_id, u.issuer, u.subject
             FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1
           ), c AS (
             INSERT INTO comments (post_id, author_id, body) SELECT target.id, $2, $3 FROM target RETURNING *
           )
           SELECT c.id, c.post_id, c.body, c.author_id, u.display_name AS author_name, ${isoTimes('c')},
                  target.title AS post_title, target.author_id AS post_author_id,
                  target.issuer AS post_author_issuer, target.subject AS post_author_subject
           FROM c JOIN target ON target.id = c.post_id JOIN users u ON u.id = c.author_id`,
          [postId, authorId, body],
        );
        const row = rows[0];
        if (!row) return null;
        return {
          ...toComment(row),
          post: {
            id: Number(row.post_id),
            title: row.post_title,
            authorId: Number(row.post_author_id),
            authorIssuer: row.post_author_issuer,
            authorSubject: row.post_author_subject,
          },
        };
      } catch (err) {
        // The post was deleted between our read of it and the foreign-key check: it is gone, say so.
        if (sqlState(err) === '23503' && (err as { constraint?: string }).constraint === 'comments_post_id_fkey') return null;
        throw err;
      }
    },

    async findComment(id) {
      const { rows } = await db.query<CommentRow>(
        `SELECT c.id, c.post_id, c.body, c.author_id, u.display_name AS author_name, ${isoTimes('c')}
         FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = $1`,
        [id],
      );
      return rows[0] ? toComment(rows[0]) : null;
    },

    async updateComment(id, body) {
      const { rows } = await db.query<CommentRow>(
        `WITH c AS (UPDATE comments SET body = $2, updated_at = now() WHERE id = $1 RETURNING *) ${decorateComment}`,
        [id, body],
      );
      return rows[0] ? toComment(rows[0]) : null;
    },

    async deleteComment(id) {
      const { rowCount } = await db.query('DELETE FROM comments WHERE id = $1', [id]);
      return rowCount > 0;
    },
  };
}

function toPost(row: PostRow): PostRecord {
  return {
    id: Number(row.id),
    title: row.title,
    body: row.body,
    author: { id: Number(row.author_id), name: row.author_name },
    commentCount: Number(row.comment_count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toComment(row: CommentRow): CommentRecord {
  return {
    id: Number(row.id),
    postId: Number(row.post_id),
    body: row.body,
    author: { id: Number(row.author_id), name: row.author_name },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
