// Where the backend is and which token it wants, in both ways the UI runs:
// - Electron: the preload's window.hearth.getBackend() gives {url, token}; both change when the
//   shell respawns the backend, so they are asked for again after a restart or a 401.
// - Web mode: the backend prints http://127.0.0.1:PORT/#/auth/<one-time code>. The fragment never
//   reaches a server; the page trades the code for the token (POST /api/session), keeps the token
//   in sessionStorage and removes the code from the address bar and history at once.

import type { HearthApi } from '../../../electron/hearth-api';

export interface Backend {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:51234 */
  base: string;
  token: string;
}

export type ConnectionState =
  { kind: 'connecting' } | { kind: 'ready'; backend: Backend } | { kind: 'signin'; reason: string };

export const TOKEN_KEY = 'hearth.token';
const AUTH_PREFIX = '#/auth/';

type Listener = (state: ConnectionState) => void;

export interface ConnectionEnv {
  shell: HearthApi | undefined;
  location: Pick<Location, 'hash' | 'origin' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
}

export function browserEnv(): ConnectionEnv {
  return {
    shell: window.hearth,
    location: window.location,
    history: window.history,
    storage: window.sessionStorage,
    fetch: (...args) => window.fetch(...args),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** The one-time code in a sign-in link's fragment, or null. */
export function authCode(hash: string): string | null {
  if (!hash.startsWith(AUTH_PREFIX)) return null;
  const code = hash.slice(AUTH_PREFIX.length).split(/[/?#]/)[0];
  return code ? decodeURIComponent(code) : null;
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

export class Connection {
  state: ConnectionState = { kind: 'connecting' };
  private listeners = new Set<Listener>();
  private pending: Promise<ConnectionState> | null = null;

  constructor(private env: ConnectionEnv) {}

  get mode(): 'electron' | 'web' {
    return this.env.shell ? 'electron' : 'web';
  }

  get backend(): Backend | null {
    return this.state.kind === 'ready' ? this.state.backend : null;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  private set(state: ConnectionState): ConnectionState {
    this.state = state;
    for (const listener of this.listeners) listener(state);
    return state;
  }

  /** First connection: trade a sign-in code, reuse a kept token, or ask the shell. */
  start(): Promise<ConnectionState> {
    this.pending ??= this.connect().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** After a 401 or a backend restart: ask again (Electron), or sign in anew (web). */
  refresh(reason = 'The backend asked for a new sign-in.'): Promise<ConnectionState> {
    if (this.mode === 'web') {
      this.env.storage.removeItem(TOKEN_KEY);
      return Promise.resolve(this.set({ kind: 'signin', reason }));
    }
    return this.start();
  }

  /**
   * One look at where the backend is now, without waiting: Electron asks the shell again (a
   * respawned backend has a new port and token; null while it restarts); web mode keeps its own.
   */
  async reask(): Promise<Backend | null> {
    const { shell } = this.env;
    if (!shell) return this.backend;
    const found = await shell.getBackend().catch(() => null);
    if (!found) return null;
    const backend = { base: trimBase(found.url), token: found.token };
    const current = this.backend;
    if (!current || current.base !== backend.base || current.token !== backend.token) {
      this.set({ kind: 'ready', backend });
    }
    return backend;
  }

  /** Web mode's manual fallback: the token printed in the terminal, pasted, and checked. */
  async useToken(token: string): Promise<ConnectionState> {
    const clean = token.trim();
    const base = this.env.location.origin;
    let response: Response;
    try {
      response = await this.env.fetch(`${base}/api/status`, {
        headers: { Authorization: `Bearer ${clean}` },
        cache: 'no-store',
      });
    } catch {
      return this.set({ kind: 'signin', reason: 'Hearth is not reachable. Is it still running?' });
    }
    if (!response.ok) {
      return this.set({ kind: 'signin', reason: 'That is not the token of this launch of Hearth.' });
    }
    this.env.storage.setItem(TOKEN_KEY, clean);
    return this.set({ kind: 'ready', backend: { base, token: clean } });
  }

  private async connect(): Promise<ConnectionState> {
    const { shell } = this.env;
    if (shell) return this.fromShell(shell);
    const code = authCode(this.env.location.hash);
    if (code !== null) {
      // Out of the address bar and the history before anything else can read or store it.
      const { pathname, search } = this.env.location;
      this.env.history.replaceState(null, '', `${pathname}${search}#/`);
      return this.redeem(code);
    }
    const kept = this.env.storage.getItem(TOKEN_KEY);
    if (kept) {
      return this.set({ kind: 'ready', backend: { base: this.env.location.origin, token: kept } });
    }
    return this.set({
      kind: 'signin',
      reason: 'Open the sign-in link that Hearth printed in its terminal.',
    });
  }

  private async fromShell(shell: HearthApi): Promise<ConnectionState> {
    // null while the backend is (re)starting: the shell shows its own screen meanwhile.
    for (let attempt = 0; ; attempt++) {
      const backend = await shell.getBackend().catch(() => null);
      if (backend) {
        return this.set({
          kind: 'ready',
          backend: { base: trimBase(backend.url), token: backend.token },
        });
      }
      if (attempt === 0) this.set({ kind: 'connecting' });
      await this.env.sleep(Math.min(250 * 2 ** attempt, 2000));
    }
  }

  private async redeem(code: string): Promise<ConnectionState> {
    const base = this.env.location.origin;
    let response: Response;
    try {
      response = await this.env.fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
        cache: 'no-store',
      });
    } catch {
      return this.set({ kind: 'signin', reason: 'Hearth is not reachable. Is it still running?' });
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      return this.set({
        kind: 'signin',
        reason: body?.message ?? `Sign-in failed (HTTP ${response.status}).`,
      });
    }
    const { token } = (await response.json()) as { token: string };
    this.env.storage.setItem(TOKEN_KEY, token);
    return this.set({ kind: 'ready', backend: { base, token } });
  }
}
