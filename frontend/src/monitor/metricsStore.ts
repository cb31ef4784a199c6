// The live metrics stream, kept open while the app runs so the monitor has history when opened
// and the sidebar can show the load at a glance. Reconnects with backoff (api/backoff.ts, up to
// 30 s) while the backend is gone, and at once when kicked.

import { backoffDelay } from '../api/backoff';
import type { Api } from '../api/client';
import type { MetricsSample } from '../api/types';

export const HISTORY = 120;

export interface MetricsSnapshot {
  samples: MetricsSample[];
  status: 'connecting' | 'live' | 'offline';
  error: string | null;
}

export function pushSample(samples: MetricsSample[], sample: MetricsSample, limit = HISTORY): MetricsSample[] {
  const next = samples.length >= limit ? samples.slice(samples.length - limit + 1) : samples.slice();
  next.push(sample);
  return next;
}

export class MetricsStore {
  private snapshot: MetricsSnapshot = { samples: [], status: 'connecting', error: null };
  private listeners = new Set<() => void>();
  private controller: AbortController | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly api: Api,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly random: () => number = Math.random,
  ) {}

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get = (): MetricsSnapshot => this.snapshot;

  private set(change: Partial<MetricsSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.wake?.();
  }

  /** The backend is known to be back (after a restart): reconnect now, not after the backoff. */
  kick(): void {
    this.wake?.();
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = () => resolve();
      void this.sleep(ms).then(() => resolve());
    });
    this.wake = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        for await (const { event, data } of this.api.events<MetricsSample>('GET', '/api/metrics/stream', { signal })) {
          if (event !== 'sample') continue;
          failures = 0;
          this.set({ samples: pushSample(this.snapshot.samples, data), status: 'live', error: null });
        }
      } catch (err) {
        if (signal.aborted) return;
        this.set({ status: 'offline', error: (err as Error).message });
      }
      if (signal.aborted) return;
      await this.pause(backoffDelay(failures++, this.random));
    }
  }
}
