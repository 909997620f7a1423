import { useBoardEvent, useSession } from '@board-bff/client/react';
import { Header } from './components/Header.js';
import { PostList } from './components/PostList.js';
import { PostPage } from './components/PostPage.js';
import { SessionsPage } from './components/SessionsPage.js';
import { SignedOutNotice } from './components/SignedOutNotice.js';
import { go, useRoute } from './route.js';
import { ToastProvider, useToast } from './toasts.js';

export function App() {
  const { session } = useSession();
  // Behind the signed-out notice nothing can be focused or read: the notice is the whole page.
  const covered = session.status === 'revoked';
  return (
    <ToastProvider>
      <div className="page" inert={covered}>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <Header />
        <main id="main" tabIndex={-1}>
          {session.status === 'live' && <SignedIn />}
          {session.status === 'anonymous' && <Welcome />}
          {session.status === 'loading' && <p className="muted">Loading…</p>}
          {session.status === 'unavailable' && (
            <p className="card" role="status">
              The board is starting or cannot be reached. This page retries by itself.
            </p>
          )}
        </main>
      </div>
      {session.status === 'revoked' && <SignedOutNotice reason={session.reason} />}
    </ToastProvider>
  );
}

function SignedIn() {
  const route = useRoute();
  const toast = useToast();
  useBoardEvent('comment_created', (event) =>
    toast({
      id: event.id,
      title: `${event.commenter.name} commented on “${event.postTitle}”`,
      body: event.excerpt,
      action: { label: 'Open', run: () => go({ page: 'post', id: event.postId }) },
    }),
  );
  if (route.page === 'post') return <PostPage key={route.id} id={route.id} />;
  if (route.page === 'sessions') return <SessionsPage />;
  return <PostList />;
}

function Welcome() {
  const { login } = useSession();
  return (
    <section className="card hero">
      <h1>A board for the team</h1>
      <p>Sign in to read and write posts. When an administrator signs you out, every open tab knows at once.</p>
      <button type="button" onClick={() => login()}>
        Sign in
      </button>
    </section>
  );
}
