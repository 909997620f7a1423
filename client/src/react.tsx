import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { BoardApiError } from './boardApiError.js';
import type { BoardClient } from './boardClient.js';
import type { BoardEvents, BoardEventType, ConnectionState, EndReason, SessionInfo, User } from './types.js';

/**
 * `loading` until the first answer; `unavailable` while the BFF cannot be reached (retried);
 * `anonymous` without a session; `live` signed in; `revoked` when the session was ended elsewhere
 * (then `reason` says why, as the BFF names it).
 */
export type SessionState =
  | { status: 'loading' | 'unavailable' | 'anonymous'; user: null }
  | { status: 'live'; user: User }
  | { status: 'revoked'; user: null; reason: EndReason };

export interface SessionValue {
  session: SessionState;
  /** The shared event stream's state (`connecting` before sign-in). */
  connection: ConnectionState;
  client: BoardClient;
  login(returnTo?: string): void;
  logout(): Promise<void>;
}

const BoardContext = createContext<SessionValue | null>(null);

/**
 * Holds the session for the tree below: asks `GET /api/user` once (retrying while the BFF is
 * unreachable), opens the browser's shared event stream when signed in, and turns a
 * `session_invalidated` event — or any call answering 401 `session_revoked` — into `revoked`.
 */
export function BoardProvider({ client, children, retryMs = 2000 }: { client: BoardClient; children: ReactNode; retryMs?: number }) {
  const [session, setSession] = useState<SessionState>({ status: 'loading', user: null });
  const [connection, setConnection] = useState<ConnectionState>({ status: 'connecting' });

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const user = await client.user();
        if (!cancelled) setSession({ status: 'live', user });
      } catch (err) {
        if (cancelled) return;
        const error = err instanceof BoardApiError ? err : new BoardApiError(0, 'network_error', String(err));
        if (error.code === 'session_revoked') {
          const status = await client.sessionStatus().catch(() => undefined);
          if (!cancelled) setSession({ status: 'revoked', user: null, reason: status?.reason ?? 'revoked' });
        } else if (error.status === 401) {
          setSession({ status: 'anonymous', user: null });
        } else {
          setSession({ status: 'unavailable', user: null });
          timer = setTimeout(load, retryMs);
        }
      }
    };
    void load();
    const offRevoked = client.onSessionRevoked(() => {
      void client.sessionStatus().then(
        (status) => !cancelled && setSession({ status: 'revoked', user: null, reason: status.reason ?? 'revoked' }),
        () => !cancelled && setSession({ status: 'revoked', user: null, reason: 'revoked' }),
      );
    });
    return () => {
      cancelled = true;
      clearTimeout(timer);
      offRevoked();
    };
  }, [client, retryMs]);

  const live = session.status === 'live';
  useEffect(() => {
    if (!live) return;
    const events = client.events();
    const apply = (state: ConnectionState) => {
      setConnection(state);
      if (state.status === 'ended' && state.cause === 'invalidated') setSession({ status: 'revoked', user: null, reason: state.reason });
      if (state.status === 'ended' && state.cause === 'signed_out') setSession({ status: 'anonymous', user: null });
    };
    apply(events.state);
    return events.onState(apply);
  }, [client, live]);

  const value = useMemo<SessionValue>(
    () => ({ session, connection, client, login: (returnTo) => client.login(returnTo), logout: () => client.logout() }),
    [session, connection, client],
  );
  return <BoardContext.Provider value={value}>{children}</BoardContext.Provider>;
}

function useBoardContext(): SessionValue {
  const value = useContext(BoardContext);
  if (!value) throw new Error('board-bff hooks must be used inside <BoardProvider client={…}>');
  return value;
}

/** The session, the stream's connection state, and `login`/`logout`. */
export function useSession(): SessionValue {
  return useBoardContext();
}

/** The client given to `<BoardProvider>`. */
export function useBoardClient(): BoardClient {
  return useBoardContext().client;
}

/**
 * Calls `handler` for each event of `type` on the shared stream while signed in. The handler may
 * change between renders without resubscribing.
 */
export function useBoardEvent<T extends BoardEventType>(type: T, handler: (event: BoardEvents[T]) => void): void {
  const { client, session } = useBoardContext();
  const latest = useRef(handler);
  latest.current = handler;
  const live = session.status === 'live';
  useEffect(() => {
    if (!live) return;
    return client.events().on(type, (event) => latest.current(event));
  }, [client, live, type]);
}

export interface SessionsValue {
  sessions: SessionInfo[] | null;
  error: BoardApiError | null;
  refresh(): Promise<void>;
  /** Signs another device out, then refreshes the list. */
  signOut(sessionId: string): Promise<void>;
}

/** The signed-in user's live sessions ("my devices"). */
export function useSessions(): SessionsValue {
  const client = useBoardClient();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<BoardApiError | null>(null);
  const refresh = useCallback(async () => {
    try {
      setSessions(await client.sessions());
      setError(null);
    } catch (err) {
      setError(err as BoardApiError);
    }
  }, [client]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const signOut = useCallback(
    async (sessionId: string) => {
      await client.signOutSession(sessionId);
      await refresh();
    },
    [client, refresh],
  );
  return { sessions, error, refresh, signOut };
}
