import { useState } from 'react';
import { useSessions } from '@board-bff/client/react';
import { when } from '../format.js';
import { ErrorText } from './ErrorText.js';

/** "My sessions": every device signed in as me, and a way to sign any other one out. */
export function SessionsPage() {
  const { sessions, error, signOut } = useSessions();
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section aria-labelledby="sessions-heading">
      <h1 id="sessions-heading">My sessions</h1>
      <p className="muted">Every browser or device where you are signed in. Signing one out ends it there at once.</p>
      <ErrorText error={error ?? actionError} />
      {sessions === null && !error && <p className="muted">Loading…</p>}
      <ul className="sessions" data-testid="sessions">
        {sessions?.map((s) => (
          <li key={s.sessionId} className="card session-row" data-testid="session" data-current={s.current}>
            <div>
              <strong>{s.current ? 'This device' : 'Another device'}</strong>
              <p className="meta">Signed in {when(s.loginTime)}</p>
            </div>
            {s.current ? (
              <span className="badge">Current</span>
            ) : (
              <button
                type="button"
                className="danger"
                aria-label={`Sign out that device (signed in ${when(s.loginTime)})`}
                onClick={() => signOut(s.sessionId).then(() => setActionError(null), setActionError)}
              >
                Sign out that device
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
