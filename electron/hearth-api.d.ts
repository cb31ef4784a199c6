/** What electron/preload.js exposes to pages as `window.hearth`. */
export interface HearthBackend {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** Send as a bearer token on API calls; changes on every backend restart. */
  token: string;
}

export interface HearthApi {
  /** The running backend, or null while it is starting. Only the app's own origin may ask. */
  getBackend(): Promise<HearthBackend | null>;
  restartBackend(): Promise<void>;
  /** Respawn the backend with HEARTH_FORCE_CPU_RUNTIME=1 (docs/PROTOCOL.md). */
  useCpuRuntime(): Promise<void>;
  openLogs(): Promise<void>;
  appVersion(): Promise<string>;
}

declare global {
  interface Window {
    /** Absent when the UI runs in a plain browser (web mode). */
    hearth?: HearthApi;
  }
}
