import { useEffect, useRef } from 'react';
import type { EndReason } from '@board-bff/client';
import { useSession } from '@board-bff/client/react';
import { describeEndReason } from '../reasons.js';

/** Covers the page once the session ended elsewhere: says why, offers one way on. */
export function SignedOutNotice({ reason }: { reason: EndReason }) {
  const { login } = useSession();
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => button.current?.focus(), []);
  const { title, detail } = describeEndReason(reason);
  return (
    <div className="overlay">
      <div className="notice" role="alertdialog" aria-modal="true" aria-labelledby="notice-title" aria-describedby="notice-detail" data-testid="signed-out" data-reason={reason}>
        <h1 id="notice-title">{title}</h1>
        <p id="notice-detail">{detail}</p>
        <p className="muted">Nothing on this page is shown any more until you sign in again.</p>
        <button type="button" ref={button} onClick={() => login()}>
          Sign in again
        </button>
      </div>
    </div>
  );
}
