import { useEffect, useState } from 'react';

export type Route = { page: 'posts' } | { page: 'post'; id: number } | { page: 'sessions' };

export function parseRoute(path: string): Route {
  const post = /^\/posts\/([1-9][0-9]*)$/.exec(path);
  if (post) return { page: 'post', id: Number(post[1]) };
  if (path === '/sessions') return { page: 'sessions' };
  return { page: 'posts' };
}

export function hrefOf(route: Route): string {
  return route.page === 'post' ? `/posts/${route.id}` : route.page === 'sessions' ? '/sessions' : '/';
}

const listeners = new Set<() => void>();

/** Client-side navigation (the BFF answers every such path with the app). */
export function go(route: Route): void {
  history.pushState(null, '', hrefOf(route));
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Props for an `<a>` that navigates in-app but stays a real link (middle-click, copy address). */
export function linkTo(route: Route) {
  return {
    href: hrefOf(route),
    onClick(event: React.MouseEvent) {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      go(route);
    },
  };
}
