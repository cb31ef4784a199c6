// Waiting for the backend to come back after it was asked to restart (runtime switch or revert).
// Electron respawns it on a new port with a new token, so each look asks the shell again.

import type { Connection } from './connection';

export interface WaitOptions {
  /** Seconds between looks. */
  intervalMs?: number;
  timeoutMs?: number;
  /** How long to wait to see it go down; past that, a healthy answer counts as back. */
  downGraceMs?: number;
  onDown?: () => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function healthy(base: string, fetchImpl: typeof fetch): Promise<boolean> {
  try {
    const response = await fetchImpl(`${base}/health`, { cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

/** Resolves 'back' once the backend went down and answers /health again, or 'timeout'. */
export async function waitForRestart(connection: Connection, options: WaitOptions = {}): Promise<'back' | 'timeout'> {
  const {
    intervalMs = 1000,
    timeoutMs = 180_000,
    downGraceMs = 15_000,
    fetchImpl = (...args) => window.fetch(...args),
    sleep = defaultSleep,
    now = () => Date.now(),
  } = options;
  const started = now();
  const before = connection.backend;
  let down = false;
  while (now() - started < timeoutMs) {
    if (options.signal?.aborted) return 'timeout';
    const backend = await connection.reask();
    const moved =
      backend !== null && before !== null && (backend.base !== before.base || backend.token !== before.token);
    const up = backend !== null && (await healthy(backend.base, fetchImpl));
    if (!up || moved) {
      if (!down) options.onDown?.();
      down = true;
    }
    if (up && (down || now() - started > downGraceMs)) return 'back';
    await sleep(intervalMs);
  }
  return 'timeout';
}
