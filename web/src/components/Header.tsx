import { useSession } from '@board-bff/client/react';
import { linkTo } from '../route.js';
import { ConnectionIndicator } from './ConnectionIndicator.js';

export function Header() {
  const { session, login, logout } = useSession();
  return (
    <header className="top">
      <a className="brand" {...linkTo({ page: 'posts' })}>
        Board
      </a>
      {session.status === 'live' && (
        <nav aria-label="Main">
          <a {...linkTo({ page: 'posts' })}>Posts</a>
          <a {...linkTo({ page: 'sessions' })}>My sessions</a>
        </nav>
      )}
      <div className="who">
        {session.status === 'live' && (
          <>
            <ConnectionIndicator />
            <span className="user" data-testid="user-name">
              {session.user.name}
            </span>
            <button type="button" className="secondary" onClick={() => void logout()}>
              Sign out
            </button>
          </>
        )}
        {session.status === 'anonymous' && (
          <button type="button" onClick={() => login()}>
            Sign in
          </button>
        )}
      </div>
    </header>
  );
}
