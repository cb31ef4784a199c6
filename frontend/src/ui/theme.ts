// Light, dark or as the system says; applied to <html data-theme> and kept with the UI's other
// choices (ui/uiPrefs.ts). public/theme-boot.js applies the local copy before the first paint.

import { uiPrefs } from './uiPrefs';

export type ThemeChoice = 'light' | 'dark' | 'system';

export function loadTheme(): ThemeChoice {
  return uiPrefs.get().theme ?? 'system';
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): 'light' | 'dark' {
  return choice === 'system' ? (prefersDark ? 'dark' : 'light') : choice;
}

/** Show a choice without saving it (at startup, once the backend's copy is known). */
export function paintTheme(choice: ThemeChoice): void {
  const prefersDark = window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
  document.documentElement.dataset.theme = resolveTheme(choice, prefersDark);
}

/** The person's choice: shown at once and kept. */
export function applyTheme(choice: ThemeChoice): void {
  uiPrefs.set({ theme: choice });
  paintTheme(choice);
}
