import { BoardApiError, errorFromResponse } from './boardApiError.js';
import { openEventStream, type BackoffOptions, type EventSourceFactory } from './eventStream.js';
import { createSharedEvents, type ChannelLike, type LocksLike, type SharedEvents } from './sharedEvents.js';
import {
  boardEventTypes,
  type Comment,
  type Post,
  type PostPage,
  type PostWithComments,
  type SessionInfo,
  type SessionStatus,
  type User,
} from './types.js';

export interface BoardClientOptions {
  /** The BFF's origin, e.g. `https://board.example` (default: this page's origin, the BFF serving the app). */
  baseUrl?: string;
  fetch?: typeof fetch;
  createEventSource?: EventSourceFactory;
  /** `navigator.locks` by default; `null` turns stream sharing off (one stream per tab). */
  locks?: LocksLike | null;
  createChannel?: (name: string) => ChannelLike;
  backoff?: BackoffOptions;
  /** Where `login()` and `logout()` send the browser (default `location.assign`). */
  navigate?: (url: string) => void;
  /** Further named events to listen for, beyond the board's own. */
  extraEventTypes?: readonly string[];
}

export interface BoardClient {
  readonly baseUrl: string;
  /** The signed-in user; rejects with `BoardApiError` 401 (`unauthenticated` or `session_revoked`). */
  user(): Promise<User>;
  /** Never rejects for a missing session: `{authenticated, sessionActive, reason?}`. */
  sessionStatus(): Promise<SessionStatus>;
  /** URL of the sign-in flow; `returnTo` is a same-origin path (default: the current one). */
  loginUrl(returnTo?: string): string;
  /** Sends the browser to the sign-in flow. */
  login(returnTo?: string): void;
  /** Ends the session everywhere (POST with `X-CSRF`) and sends the browser to the provider's end-session URL. */
  logout(): Promise<void>;
  sessions(): Promise<SessionInfo[]>;
  signOutSession(sessionId: string): Promise<void>;
  posts(page?: { cursor?: string | null; limit?: number }): Promise<PostPage>;
  post(id: number): Promise<PostWithComments>;
  createPost(input: { title: string; body: string }): Promise<Post>;
  updatePost(id: number, patch: { title?: string; body?: string }): Promise<Post>;
  deletePost(id: number): Promise<void>;
  addComment(postId: number, body: string): Promise<Comment>;
  updateComment(id: number, body: string): Promise<Comment>;
  deleteComment(id: number): Promise<void>;
  /** The browser's one shared event stream (started on first call; see `createSharedEvents`). */
  events(): SharedEvents;
  /** Called whenever a call answers 401 `session_revoked` (a stream-independent signal). */
  onSessionRevoked(listener: (error: BoardApiError) => void): () => void;
}

/**
 * The BFF's API for a browser app: cookies are sent (`credentials: 'include'`), state-changing calls
 * carry `X-CSRF: 1`, every failure is a `BoardApiError` with the API's `error` code.
 */
export function createBoardClient(options: BoardClientOptions = {}): BoardClient {
  const baseUrl = (options.baseUrl ?? globalThis.location?.origin ?? '').replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const navigate = options.navigate ?? ((url: string) => globalThis.location.assign(url));
  const revokedListeners = new Set<(error: BoardApiError) => void>();
  let shared: SharedEvents | undefined;

  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF'] = '1';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        credentials: 'include',
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new BoardApiError(0, 'network_error', `The server could not be reached (${(err as Error).message})`);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (error.code === 'session_revoked') for (const listener of [...revokedListeners]) listener(error);
      throw error;
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  };

  const client: BoardClient = {
    baseUrl,
    user: async () => (await request<{ user: User }>('GET', '/api/user')).user,
    sessionStatus: () => request<SessionStatus>('GET', '/api/session-status'),
    loginUrl(returnTo) {
      const path = returnTo ?? (globalThis.location ? `${location.pathname}${location.search}` : '/');
      return `${baseUrl}/auth/login?returnTo=${encodeURIComponent(path)}`;
    },
    login(returnTo) {
      navigate(client.loginUrl(returnTo));
    },
    async logout() {
      const { logoutUrl } = await request<{ logoutUrl: string }>('POST', '/auth/logout');
      // The other tabs learn why at once (the stream's own session_invalidated may not arrive
      // before this tab navigates away and its stream closes).
      shared?.closeEnded('logout');
      navigate(logoutUrl);
    },
    sessions: async () => (await request<{ sessions: SessionInfo[] }>('GET', '/api/sessions')).sessions,
    async signOutSession(sessionId) {
      await request('DELETE', `/api/sessions/${encodeURIComponent(sessionId)}`);
    },
    posts({ cursor, limit } = {}) {
      const query = new URLSearchParams();
      if (cursor) query.set('cursor', cursor);
      if (limit) query.set('limit', String(limit));
      const search = query.size > 0 ? `?${query}` : '';
      return request<PostPage>('GET', `/api/posts${search}`);
    },
    post: async (id) => (await request<{ post: PostWithComments }>('GET', `/api/posts/${id}`)).post,
    createPost: async (input) => (await request<{ post: Post }>('POST', '/api/posts', input)).post,
    updatePost: async (id, patch) => (await request<{ post: Post }>('PATCH', `/api/posts/${id}`, patch)).post,
    deletePost: (id) => request('DELETE', `/api/posts/${id}`),
    addComment: async (postId, body) => (await request<{ comment: Comment }>('POST', `/api/posts/${postId}/comments`, { body })).comment,
    updateComment: async (id, body) => (await request<{ comment: Comment }>('PATCH', `/api/comments/${id}`, { body })).comment,
    deleteComment: (id) => request('DELETE', `/api/comments/${id}`),
    events() {
      if (shared) return shared; // one per page: once ended it stays ended (signing in again loads a new page)
      const locks = options.locks === null ? undefined : (options.locks ?? (globalThis.navigator as Navigator | undefined)?.locks);
      const createChannel =
        options.createChannel ?? (typeof BroadcastChannel === 'function' ? (name: string) => new BroadcastChannel(name) : undefined);
      const createEventSource = options.createEventSource ?? ((url, init) => new EventSource(url, init));
      shared = createSharedEvents({
        name: `board-bff-events:${baseUrl}`,
        locks,
        createChannel,
        start: (sink, lastEventId) =>
          openEventStream({
            url: `${baseUrl}/api/events`,
            types: [...boardEventTypes, ...(options.extraEventTypes ?? [])],
            createEventSource,
            sessionStatus: client.sessionStatus,
            lastEventId,
            ...(options.backoff && { backoff: options.backoff }),
            onEvent: sink.onEvent,
            onState: sink.onState,
          }),
      });
      return shared;
    },
    onSessionRevoked(listener) {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },
  };
  return client;
}
