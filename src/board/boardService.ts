import { topics, type AppEvent, type EventBus } from '../events/eventBus.js';
import { HttpError, unavailable } from '../errors.js';
import { describeError, type Logger } from '../logger.js';
import type { AuthState } from '../sessions/authState.js';
import type { CommentInput, NewPost, PageRequest, PostPatch } from './boardInput.js';
import { boardChangedEvent, commentCreatedEvent } from './boardEvents.js';
import type { BoardRepository, CommentRecord, PostRecord } from './boardRepository.js';
import type { UserDirectory } from './userDirectory.js';

/** What a viewer may do with an item, computed per request. */
export interface Editable {
  canEdit: boolean;
}
export type PostView = PostRecord & Editable;
export type CommentView = CommentRecord & Editable;
export type PostDetailView = PostView & { comments: CommentView[] };
export interface PostPage {
  posts: PostView[];
  /** The id of the last post returned when more exist (the route turns it into an opaque cursor). */
  nextBeforeId: number | null;
}

export interface BoardService {
  listPosts(viewer: AuthState, page: PageRequest): Promise<PostPage>;
  getPost(viewer: AuthState, id: number): Promise<PostDetailView>;
  createPost(viewer: AuthState, input: NewPost): Promise<PostView>;
  updatePost(viewer: AuthState, id: number, patch: PostPatch): Promise<PostView>;
  deletePost(viewer: AuthState, id: number): Promise<void>;
  addComment(viewer: AuthState, postId: number, input: CommentInput): Promise<CommentView>;
  updateComment(viewer: AuthState, id: number, input: CommentInput): Promise<CommentView>;
  deleteComment(viewer: AuthState, id: number): Promise<void>;
}

export interface BoardServiceDeps {
  repository: BoardRepository;
  users: UserDirectory;
  events: EventBus;
  log: Logger;
  /** The realm role that may edit and delete anything (`config.board.moderatorRole`). */
  moderatorRole: string;
  /** False until migrations ran; the board then answers 503 instead of querying missing tables. */
  isSchemaReady?: () => boolean;
}

const notFound = (what: 'post' | 'comment', id: number) => new HttpError(404, 'not_found', `${what} ${id} does not exist`);
const forbidden = (what: 'post' | 'comment') =>
  new HttpError(403, 'forbidden', `only the author or a moderator may change this ${what}`);

/**
 * The board's rules: authors edit and delete their own content, moderators anything; unknown ids are
 * 404, others' content 403. Changes are announced on the event bus; streams are someone else's job.
 */
export function createBoardService(deps: BoardServiceDeps): BoardService {
  const { repository, users, events, log, moderatorRole } = deps;

  /** The viewer's internal id and moderator status; first checks the schema is there. */
  const actor = async (viewer: AuthState) => {
    if (deps.isSchemaReady && !deps.isSchemaReady()) throw unavailable('database');
    const id = await users.userIdFor(viewer);
    return { id, moderator: viewer.user.roles.includes(moderatorRole) };
  };
  type Actor = Awaited<ReturnType<typeof actor>>;
  const may = (who: Actor, authorId: number) => who.moderator || who.id === authorId;
  /** The post or comment `who` may change: 404 if it does not exist, 403 if it is someone else's. */
  const changeable = async <T extends { author: { id: number } }>(
    who: Actor,
    kind: 'post' | 'comment',
    id: number,
    find: (id: number) => Promise<T | null>,
  ): Promise<T> => {
    const existing = await find(id);
    if (!existing) throw notFound(kind, id);
    if (!may(who, existing.author.id)) throw forbidden(kind);
    return existing;
  };
  const withCanEdit = <T extends { author: { id: number } }>(who: Actor, item: T): T & Editable => ({
    ...item,
    canEdit: may(who, item.author.id),
  });

  /** Delivery is best-effort: the write is committed, so a bus outage is logged, not reported as a failure. */
  const publish = async (topic: string, event: AppEvent) => {
    try {
      await events.publish(topic, event);
    } catch (err) {
      log.warn({ err: describeError(err), type: event.type }, 'board event not published');
    }
  };

  return {
    async listPosts(viewer, page) {
      const who = await actor(viewer);
      // One extra row tells whether another page exists without counting the table.
      const rows = await repository.listPosts({ limit: page.limit + 1, beforeId: page.beforeId });
      const posts = rows.slice(0, page.limit).map((post) => withCanEdit(who, post));
      return { posts, nextBeforeId: rows.length > page.limit ? posts.at(-1)!.id : null };
    },

    async getPost(viewer, id) {
      const who = await actor(viewer);
      const post = await repository.findPost(id);
      if (!post) throw notFound('post', id);
      const comments = await repository.listComments(id);
      return { ...withCanEdit(who, post), comments: comments.map((comment) => withCanEdit(who, comment)) };
    },

    async createPost(viewer, input) {
      const who = await actor(viewer);
      const post = await repository.insertPost(who.id, input);
      await publish(topics.broadcast, boardChangedEvent('post_created', post.id));
      return withCanEdit(who, post);
    },

    async updatePost(viewer, id, patch) {
      const who = await actor(viewer);
      await changeable(who, 'post', id, repository.findPost);
      const post = await repository.updatePost(id, patch);
      if (!post) throw notFound('post', id);
      await publish(topics.broadcast, boardChangedEvent('post_updated', id));
      return withCanEdit(who, post);
    },

    async deletePost(viewer, id) {
      const who = await actor(viewer);
      const existing = await changeable(who, 'post', id, repository.findPost);
      if (!(await repository.deletePost(id))) throw notFound('post', id);
      if (who.id !== existing.author.id) log.info({ postId: id, moderatorId: who.id }, 'post deleted by a moderator');
      await publish(topics.broadcast, boardChangedEvent('post_deleted', id));
    },

    async addComment(viewer, postId, input) {
      const who = await actor(viewer);
      const comment = await repository.insertComment(postId, who.id, input.body);
      if (!comment) throw notFound('post', postId);
      if (comment.post.authorId !== who.id) {
        await publish(topics.user(comment.post.authorIssuer, comment.post.authorSubject), commentCreatedEvent(comment));
      }
      await publish(topics.broadcast, boardChangedEvent('comment_created', postId, comment.id));
      const { post: _post, ...record } = comment;
      return withCanEdit(who, record);
    },

    async updateComment(viewer, id, input) {
      const who = await actor(viewer);
      await changeable(who, 'comment', id, repository.findComment);
      const comment = await repository.updateComment(id, input.body);
      if (!comment) throw notFound('comment', id);
      await publish(topics.broadcast, boardChangedEvent('comment_updated', comment.postId, id));
      return withCanEdit(who, comment);
    },

    async deleteComment(viewer, id) {
      const who = await actor(viewer);
      const existing = await changeable(who, 'comment', id, repository.findComment);
      if (!(await repository.deleteComment(id))) throw notFound('comment', id);
      await publish(topics.broadcast, boardChangedEvent('comment_deleted', existing.postId, id));
    },
  };
}
