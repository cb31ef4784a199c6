// How long to wait before trying a lost backend again: doubling from 1 s up to a cap of 30 s, so a
// backend that is gone for a while costs a request (and a console line) every 30 s, not every
// second. Jitter spreads the retries of several streams so they do not arrive in step.

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** Share of the delay that may be taken off at random, 0..1. */
  jitter?: number;
}

/** The wait before retry number `attempt` (0 = the first retry); `random` returns 0..1 (pure). */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, capMs = 30_000, jitter = 0.2 } = options;
  const steps = Math.max(0, Math.floor(attempt));
  // 2 ** 60 is still finite; the cap applies before any overflow could matter.
  const full = Math.min(capMs, baseMs * 2 ** Math.min(steps, 60));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(full * (1 - jitter * r));
}
