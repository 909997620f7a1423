import { createEvent, type AppEvent } from '../events/eventBus.js';
import type { CreatedComment } from './boardRepository.js';

export type BoardChangeKind =
  | 'post_created'
  | 'post_updated'
  | 'post_deleted'
  | 'comment_created'
  | 'comment_updated'
  | 'comment_deleted';

const excerptMax = 140;

/**
 * `board_changed` to every open stream: deliberately light (no titles, no bodies, no authors), a hint
 * to refetch; clients read the content through the API, which applies its own access rules.
 */
export function boardChangedEvent(kind: BoardChangeKind, postId: number, commentId?: number): AppEvent {
  return createEvent('board_changed', { kind, postId, ...(commentId !== undefined && { commentId }) });
}

/** `comment_created` to the post author's streams only. */
export function commentCreatedEvent(comment: CreatedComment): AppEvent {
  return createEvent('comment_created', {
    postId: comment.postId,
    postTitle: comment.post.title,
    commentId: comment.id,
    commenter: { id: comment.author.id, name: comment.author.name },
    excerpt: excerptOf(comment.body),
  });
}

/** Whitespace collapsed, at most `max` code points (never a split surrogate pair), "…" when cut. */
export function excerptOf(text: string, max = excerptMax): string {
  const points = [...text.replace(/\s+/g, ' ').trim()];
  return points.length <= max ? points.join('') : `${points.slice(0, max - 1).join('').trimEnd()}…`;
}
