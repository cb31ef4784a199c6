// Hash routes: the page is served at / by the backend and by Electron, so the path never changes.
import { useEffect, useState } from 'react';

export type Route =
  | { name: 'chat'; id: string | null }
  | { name: 'documents'; id: string | null }
  | { name: 'models' }
  | { name: 'monitor' }
  | { name: 'settings' }
  | { name: 'welcome' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  switch (parts[0]) {
    case 'chat':
      return { name: 'chat', id: parts[1] ? decodeURIComponent(parts[1]) : null };
    case 'documents':
      return { name: 'documents', id: parts[1] ? decodeURIComponent(parts[1]) : null };
    case 'models':
      return { name: 'models' };
    case 'monitor':
      return { name: 'monitor' };
    case 'settings':
      return { name: 'settings' };
    case 'welcome':
      return { name: 'welcome' };
    default:
      return { name: 'chat', id: null };
  }
}

export function routeHash(route: Route): string {
  if (route.name === 'chat' || route.name === 'documents') {
    return route.id ? `#/${route.name}/${encodeURIComponent(route.id)}` : `#/${route.name}`;
  }
  return `#/${route.name}`;
}

export function navigate(route: Route, replace = false): void {
  const hash = routeHash(route);
  if (window.location.hash === hash) return;
  if (replace) {
    window.history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
