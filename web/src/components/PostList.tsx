import { useCallback, useEffect, useState } from 'react';
import type { Post } from '@board-bff/client';
import { useBoardClient } from '@board-bff/client/react';
import { linkTo } from '../route.js';
import { when } from '../format.js';
import { useLiveRefresh } from '../useLiveRefresh.js';
import { ErrorText } from './ErrorText.js';
import { PostForm } from './PostForm.js';

const PAGE = 10;

/** Newest first, ten at a time ("Show older posts"); reloads what is shown when the board changes. */
export function PostList() {
  const client = useBoardClient();
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [shown, setShown] = useState(PAGE);

  const load = useCallback(
    async (limit: number) => {
      try {
        const page = await client.posts({ limit: Math.min(100, limit) });
        setPosts(page.posts);
        setCursor(page.nextCursor);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    [client],
  );
  useEffect(() => void load(PAGE), [load]);
  useLiveRefresh(() => void load(shown));

  const more = async () => {
    try {
      const page = await client.posts({ cursor, limit: PAGE });
      setPosts((all) => [...(all ?? []), ...page.posts]);
      setCursor(page.nextCursor);
      setShown((n) => n + PAGE);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <section className="card" aria-labelledby="new-post">
        <h2 id="new-post">New post</h2>
        <PostForm
          submitLabel="Publish"
          onSubmit={async (input) => {
            await client.createPost(input);
            await load(shown);
          }}
        />
      </section>
      <section aria-labelledby="posts-heading">
        <h2 id="posts-heading">Posts</h2>
        <ErrorText error={error} />
        {posts === null && !error && <p className="muted">Loading posts…</p>}
        {posts?.length === 0 && <p className="muted">No posts yet. Write the first one above.</p>}
        <ul className="posts" data-testid="posts">
          {posts?.map((post) => (
            <li key={post.id} className="card post-summary">
              <a className="post-title" {...linkTo({ page: 'post', id: post.id })}>
                {post.title}
              </a>
              <p className="excerpt">{post.body.length > 200 ? `${post.body.slice(0, 200)}…` : post.body}</p>
              <p className="meta">
                {post.author.name} · {when(post.createdAt)} ·{' '}
                <span data-testid="comment-count">{post.commentCount === 1 ? '1 comment' : `${post.commentCount} comments`}</span>
              </p>
            </li>
          ))}
        </ul>
        {cursor && (
          <button type="button" className="secondary" onClick={() => void more()}>
            Show older posts
          </button>
        )}
      </section>
    </>
  );
}
