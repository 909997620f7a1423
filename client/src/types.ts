/** Shapes of the BFF's JSON API (see the project's DESIGN.md / README). Times are ISO-8601 strings. */

export interface User {
  id: string;
  name: string;
  email: string;
  username: string;
  roles: string[];
}

/** Why a session ended, as the BFF names it in `session_invalidated` and `session-status`. */
export type EndReason = 'backchannel_logout' | 'logout' | 'revoked' | 'expired' | 'provider_session_ended' | (string & {});

export interface SessionStatus {
  authenticated: boolean;
  sessionActive: boolean;
  reason?: EndReason;
}

export interface SessionInfo {
  /** Opaque handle, never the cookie value. */
  sessionId: string;
  userId: string;
  userName: string;
  loginTime: string;
  current: boolean;
}

export interface Author {
  id: number;
  name: string;
}

export interface Post {
  id: number;
  title: string;
  body: string;
  author: Author;
  commentCount: number;
  createdAt: string;
  updatedAt: string;
  /** The viewer may edit and delete it (author, or moderator). */
  canEdit: boolean;
}

export interface Comment {
  id: number;
  postId: number;
  body: string;
  author: Author;
  createdAt: string;
  updatedAt: string;
  canEdit: boolean;
}

export interface PostWithComments extends Post {
  comments: Comment[];
}

export interface PostPage {
  posts: Post[];
  nextCursor: string | null;
  hasMore: boolean;
}

/** Events on `GET /api/events`, by their SSE event name. */
export interface BoardEvents {
  session_invalidated: { type: 'session_invalidated'; id: string; at: string; reason: EndReason };
  comment_created: {
    type: 'comment_created';
    id: string;
    at: string;
    postId: number;
    postTitle: string;
    commentId: number;
    commenter: Author;
    excerpt: string;
  };
  board_changed: {
    type: 'board_changed';
    id: string;
    at: string;
    kind: 'post_created' | 'post_updated' | 'post_deleted' | 'comment_created' | 'comment_updated' | 'comment_deleted';
    postId: number;
    commentId?: number;
  };
}
export type BoardEventType = keyof BoardEvents;
export type AnyBoardEvent = BoardEvents[BoardEventType];
export const boardEventTypes: readonly BoardEventType[] = ['session_invalidated', 'comment_created', 'board_changed'];

/**
 * The stream's state as a tab sees it. `ended` is final: `invalidated` carries the server's reason,
 * `signed_out` means there is no session (any more), `closed` that this client stopped it.
 */
export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'live' }
  | { status: 'reconnecting'; attempt: number; retryInMs: number }
  | { status: 'ended'; cause: 'invalidated'; reason: EndReason }
  | { status: 'ended'; cause: 'signed_out' | 'closed' };
