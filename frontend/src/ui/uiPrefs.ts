// The UI's own choices (theme, onboarding done, sampling, the last upgrade result seen) live in the
// backend's preferences: in web mode localStorage belongs to the page's origin, and the origin
// changes with the random port on every launch. localStorage keeps a copy under the keys these
// choices always had, so that public/theme-boot.js can paint before any script runs, and the app
// still starts with the last known choices when the backend cannot be asked.

import type { Api } from '../api/client';
import { preferences } from '../api/endpoints';
import type { UiPreferenceValues } from '../api/types';

export type UiChoices = UiPreferenceValues;
type Key = keyof UiChoices;

export const NONE: UiChoices = { theme: null, onboarded: null, sampling: null, upgrade_seen: null };
const KEYS = Object.keys(NONE) as Key[];

// The theme is a bare string because theme-boot.js reads it without JSON; the rest are JSON.
const LOCAL = {
  theme: 'hearth.theme',
  onboarded: 'hearth.onboarded',
  sampling: 'hearth.sampling',
  upgrade_seen: 'hearth.upgrade.seen',
} as const satisfies Record<Key, string>;

/**
 * What to use and what to send, from the backend's copy and this browser's (pure). A choice the
 * backend has wins; one only this browser has (made before the backend kept them, or offline) is
 * used and sent up, so an existing install keeps its theme and skips onboarding after an update.
 */
export function reconcile(server: UiChoices, local: UiChoices): { choices: UiChoices; upload: Partial<UiChoices> } {
  const choices = { ...NONE };
  const upload: Partial<UiChoices> = {};
  for (const key of KEYS) {
    if (server[key] !== null && server[key] !== undefined) {
      (choices as Record<Key, unknown>)[key] = server[key];
    } else if (local[key] !== null) {
      (choices as Record<Key, unknown>)[key] = local[key];
      (upload as Record<Key, unknown>)[key] = local[key];
    }
  }
  return { choices, upload };
}

function pick(doc: Partial<UiChoices>): UiChoices {
  const out = { ...NONE };
  for (const key of KEYS) (out as Record<Key, unknown>)[key] = doc[key] ?? null;
  return out;
}

type LocalStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class UiPrefsStore {
  // Changes the backend has not confirmed yet: sent again with the next change or load.
  private pending: Partial<UiChoices> = {};
  private api: Api | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private loading: Promise<'backend' | 'cache'> | null = null;
  private memory: UiChoices = { ...NONE };
  // Keys whose last write the storage refused: the memory copy is the newer one.
  private memoryOnly = new Set<Key>();

  constructor(
    private readonly storage: () => LocalStore | undefined = () => globalThis.localStorage,
    // Coalesces a burst (typing in a number box) into one PUT.
    private readonly delayMs = 300,
  ) {}

  /** The choices as last known; read from the local copy, so reads are cheap and synchronous. */
  get(): UiChoices {
    const out = { ...NONE };
    for (const key of KEYS) (out as Record<Key, unknown>)[key] = this.readLocal(key);
    return out;
  }

  /**
   * Ask the backend once per API (before the first screen is drawn). Never rejects: on no answer
   * within `timeoutMs` the local copy stands and 'cache' says so.
   */
  load(api: Api, timeoutMs = 3000): Promise<'backend' | 'cache'> {
    if (this.loading && this.api === api) return this.loading;
    this.api = api;
    const ask = preferences.get(api).then((doc) => {
      const { choices, upload } = reconcile(pick(doc.preferences), this.get());
      for (const key of KEYS) this.writeLocal(key, choices[key]);
      this.pending = { ...upload, ...this.pending };
      if (Object.keys(this.pending).length) void this.flush();
      return 'backend' as const;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'cache'>((resolve) => {
      timer = setTimeout(() => resolve('cache'), timeoutMs);
    });
    this.loading = Promise.race([ask, late])
      .catch(() => 'cache' as const)
      .finally(() => clearTimeout(timer));
    return this.loading;
  }

  /** Change some choices: at once here, and in the backend shortly after. */
  set(changes: Partial<UiChoices>): void {
    for (const [key, value] of Object.entries(changes) as [Key, UiChoices[Key]][]) this.writeLocal(key, value);
    this.pending = { ...this.pending, ...changes };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Send what the backend has not confirmed; kept for the next try when it cannot be reached. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const api = this.api;
    const sending = this.pending;
    if (!api || Object.keys(sending).length === 0) return;
    this.pending = {};
    try {
      await preferences.put(api, sending);
    } catch {
      this.pending = { ...sending, ...this.pending };
    }
  }

  private readLocal(key: Key): unknown {
    try {
      const storage = this.storage();
      if (!storage || this.memoryOnly.has(key)) return this.memory[key];
      const raw = storage.getItem(LOCAL[key]);
      if (raw === null) return null;
      if (key === 'theme') return raw === 'light' || raw === 'dark' ? raw : null;
      return JSON.parse(raw);
    } catch {
      return this.memory[key];
    }
  }

  private writeLocal(key: Key, value: unknown): void {
    (this.memory as Record<Key, unknown>)[key] = value;
    try {
      const storage = this.storage();
      if (value === null || (key === 'theme' && value === 'system')) storage?.removeItem(LOCAL[key]);
      else storage?.setItem(LOCAL[key], key === 'theme' ? String(value) : JSON.stringify(value));
      this.memoryOnly.delete(key);
    } catch {
      // Private window or full disk: the memory copy serves this session.
      this.memoryOnly.add(key);
    }
  }
}

/** The app's one store; it touches storage only when asked, never at import. */
export const uiPrefs = new UiPrefsStore();
