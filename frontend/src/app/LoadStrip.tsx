import { useSyncExternalStore } from 'react';
import type { MetricsSample } from '../api/types';
import type { MetricsSnapshot } from '../monitor/metricsStore';
import { formatBytes } from '../ui/format';
import { useApp } from './context';

export type StripView =
  | { kind: 'waiting' }
  | { kind: 'offline'; label: string; detail: string }
  | { kind: 'live'; cpu: string; ram: string; gpu: string };

/** What the sidebar's load strip says (pure). While the backend is gone the last figures would be
 *  stale, so none are shown: the strip says so instead, greyed. */
export function stripView({ samples, status }: Pick<MetricsSnapshot, 'samples' | 'status'>): StripView {
  if (status === 'offline') return { kind: 'offline', label: 'Not connected', detail: 'reconnecting…' };
  const last: MetricsSample | undefined = samples[samples.length - 1];
  if (!last) return { kind: 'waiting' };
  const gpu = last.gpus?.[0];
  return {
    kind: 'live',
    cpu: `CPU ${last.cpu.percent !== null ? `${Math.round(last.cpu.percent)}%` : '—'}`,
    ram: `RAM ${formatBytes(last.memory.used_bytes, 1)}`,
    gpu: gpu ? `GPU ${gpu.util_percent !== null ? `${Math.round(gpu.util_percent)}%` : '—'}` : 'GPU —',
  };
}

/** The load at a glance at the foot of the sidebar; a link to the monitor. */
export function LoadStrip() {
  const { metrics } = useApp();
  const view = stripView(useSyncExternalStore(metrics.subscribe, metrics.get));
  if (view.kind === 'waiting') return <div className="load-strip" aria-hidden="true" />;
  if (view.kind === 'offline') {
    return (
      <a
        className="load-strip offline"
        href="#/monitor"
        data-testid="load-strip"
        aria-label="System load: not connected to Hearth's backend, reconnecting"
      >
        <span className="strip-dot" aria-hidden="true" />
        <span className="strip-state">{view.label}</span>
        <span>{view.detail}</span>
      </a>
    );
  }
  return (
    <a className="load-strip" href="#/monitor" data-testid="load-strip" aria-label="System load; open the monitor">
      <span>{view.cpu}</span>
      <span>{view.ram}</span>
      <span>{view.gpu}</span>
    </a>
  );
}
