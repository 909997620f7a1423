import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { BoardApiError, type Comment, type PostWithComments } from '@board-bff/client';
import { useBoardClient } from '@board-bff/client/react';
import { go, linkTo } from '../route.js';
import { when } from '../format.js';
import { useLiveRefresh } from '../useLiveRefresh.js';
import { ErrorText } from './ErrorText.js';
import { FormButtons } from './FormButtons.js';
import { PostForm } from './PostForm.js';

/** A post and its comments; the author (or a moderator) can edit and delete both. */
export function PostPage({ id }: { id: number }) {
  const client = useBoardClient();
  const [post, setPost] = useState<PostWithComments | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);

  const load = useCallback(async () => {
    try {
      setPost(await client.post(id));
      setError(null);
    } catch (err) {
      setError(err);
      if (err instanceof BoardApiError && err.code === 'not_found') setPost(null);
    }
  }, [client, id]);
  useEffect(() => void load(), [load]);
  useLiveRefresh(() => void load(), (event) => event.postId === id);

  const remove = async () => {
    if (!window.confirm('Delete this post and its comments?')) return;
    try {
      await client.deletePost(id);
      go({ page: 'posts' });
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <p>
        <a {...linkTo({ page: 'posts' })}>← All posts</a>
      </p>
      <ErrorText error={error} />
      {post && (
        <article className="card" aria-labelledby="post-title">
          {editing ? (
            <PostForm
              initial={post}
              submitLabel="Save"
              onCancel={() => setEditing(false)}
              onSubmit={async (input) => {
                await client.updatePost(id, input);
                setEditing(false);
                await load();
              }}
            />
          ) : (
            <>
              <h1 id="post-title">{post.title}</h1>
              <p className="meta">
                {post.author.name} · {when(post.createdAt)}
                {post.updatedAt !== post.createdAt && ' · edited'}
              </p>
              <p className="body">{post.body}</p>
              {post.canEdit && (
                <div className="row">
                  <button type="button" className="secondary" onClick={() => setEditing(true)}>
                    Edit post
                  </button>
                  <button type="button" className="danger" onClick={() => void remove()}>
                    Delete post
                  </button>
                </div>
              )}
            </>
          )}
        </article>
      )}
      {post && (
        <section aria-labelledby="comments-heading">
          <h2 id="comments-heading">{post.comments.length === 1 ? '1 comment' : `${post.comments.length} comments`}</h2>
          <ul className="comments" data-testid="comments">
            {post.comments.map((comment) => (
              <CommentItem key={comment.id} comment={comment} onChanged={load} />
            ))}
          </ul>
          <CommentForm postId={id} onAdded={load} />
        </section>
      )}
    </>
  );
}

function CommentItem({ comment, onChanged }: { comment: Comment; onChanged(): Promise<void> }) {
  const client = useBoardClient();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(null);
      setEditing(false);
      await onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li className="comment" data-testid="comment">
      <p className="meta">
        <strong>{comment.author.name}</strong> · {when(comment.createdAt)}
        {comment.updatedAt !== comment.createdAt && ' · edited'}
      </p>
      {editing ? (
        <TextForm label="Edit comment" initial={comment.body} submitLabel="Save" onCancel={() => setEditing(false)} onSubmit={(body) => run(() => client.updateComment(comment.id, body))} />
      ) : (
        <p className="body" data-testid="comment-body">
          {comment.body}
        </p>
      )}
      <ErrorText error={error} />
      {comment.canEdit && !editing && (
        <div className="row small">
          <button type="button" className="link" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" className="link danger-text" onClick={() => window.confirm('Delete this comment?') && void run(() => client.deleteComment(comment.id))}>
            Delete
          </button>
        </div>
      )}
    </li>
  );
}

function CommentForm({ postId, onAdded }: { postId: number; onAdded(): Promise<void> }) {
  const client = useBoardClient();
  return (
    <TextForm
      label="Your comment"
      submitLabel="Comment"
      onSubmit={async (body) => {
        await client.addComment(postId, body);
        await onAdded();
      }}
    />
  );
}

function TextForm(props: { label: string; initial?: string; submitLabel: string; onSubmit(text: string): Promise<void>; onCancel?(): void }) {
  const id = useId();
  const [text, setText] = useState(props.initial ?? '');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await props.onSubmit(text);
      setError(null);
      if (props.initial === undefined) setText('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="stack" onSubmit={submit}>
      <label htmlFor={id}>{props.label}</label>
      <textarea id={id} value={text} onChange={(e) => setText(e.target.value)} rows={3} maxLength={5000} required />
      <ErrorText error={error} />
      <FormButtons submitLabel={props.submitLabel} onCancel={props.onCancel} />
    </form>
  );
}
