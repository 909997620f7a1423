import { useEffect, useRef } from 'react';
import { useBoardEvent, useSession } from '@board-bff/client/react';
import type { BoardEvents } from '@board-bff/client';

/**
 * Refetches when the board changes (`board_changed` passing `matches`) and after the stream comes
 * back from reconnecting: events sent while it was down are not replayed, so the data is re-read.
 */
export function useLiveRefresh(refresh: () => void, matches: (event: BoardEvents['board_changed']) => boolean = () => true): void {
  useBoardEvent('board_changed', (event) => {
    if (matches(event)) refresh();
  });
  const { connection } = useSession();
  const wasDown = useRef(false);
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (connection.status === 'reconnecting') wasDown.current = true;
    if (connection.status === 'live' && wasDown.current) {
      wasDown.current = false;
      latest.current();
    }
  }, [connection.status]);
}
