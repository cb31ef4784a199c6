import { useCallback, useSyncExternalStore } from 'react';
import { metrics as metricsApi } from '../api/endpoints';
import type { MetricsSample } from '../api/types';
import { useApp, useBus } from '../app/context';
import { useAsync } from '../app/useAsync';
import { formatBytes, formatMs } from '../ui/format';
import { BarChart, LineChart } from './Chart';
import { HISTORY } from './metricsStore';

const pct = (v: number) => `${Math.round(v)}%`;

function gpuIndexes(samples: MetricsSample[]): number[] {
  const seen = new Set<number>();
  for (const s of samples) for (const g of s.gpus ?? []) seen.add(g.index);
  return [...seen].sort((a, b) => a - b);
}

function SpeedHistory() {
  const { api } = useApp();
  const { data, error, reload } = useAsync(() => metricsApi.answers(api, 60), [api]);
  useBus(
    'answer',
    useCallback(() => void reload(), [reload]),
  );
  if (error && !data) {
    return (
      <p className="inline-error" role="alert">
        {error.message}
      </p>
    );
  }
  const answers = data?.answers ?? [];
  const bars = answers.map((a) => ({
    key: a.message_id,
    value: a.tokens_per_s,
    label: `${a.tokens_per_s === null ? 'no speed (too short)' : `${a.tokens_per_s.toFixed(1)} tok/s`}, first token ${formatMs(a.ttft_ms)}, ${a.model ?? ''}`,
  }));
  return (
    <BarChart
      title="Answer speed (tokens/s), recent answers"
      bars={bars}
      total={data?.total}
      format={(v) => `${v.toFixed(1)}`}
    />
  );
}

/** Live CPU, RAM, GPU and VRAM, and how fast recent answers were. */
export function MonitorView() {
  const { metrics } = useApp();
  const { samples, status, error } = useSyncExternalStore(metrics.subscribe, metrics.get);
  const last = samples[samples.length - 1];
  const total = last?.memory.total_bytes ?? 0;
  const gpus = gpuIndexes(samples);

  return (
    <section className="page monitor" aria-labelledby="monitor-title">
      <h1 id="monitor-title">System monitor</h1>
      <p className="small" role="status" data-testid="monitor-status">
        {status === 'live'
          ? 'Live, one sample a second.'
          : status === 'connecting'
            ? 'Connecting…'
            : `Reconnecting… ${error ?? ''}`}
      </p>
      <div className="chart-grid">
        <LineChart
          title="CPU"
          capacity={HISTORY}
          max={100}
          format={pct}
          series={[
            { label: 'all cores', values: samples.map((s) => s.cpu.percent), color: 'var(--chart-1)' },
            {
              label: 'Hearth',
              values: samples.map((s) => s.process.cpu_percent / Math.max(1, s.cpu.per_core.length)),
              color: 'var(--chart-2)',
            },
          ]}
        />
        <LineChart
          title="Memory"
          capacity={HISTORY}
          max={total || undefined}
          format={(v) => formatBytes(v)}
          series={[
            { label: 'used', values: samples.map((s) => s.memory.used_bytes), color: 'var(--chart-1)' },
            { label: 'Hearth', values: samples.map((s) => s.process.rss_bytes), color: 'var(--chart-2)' },
          ]}
        />
        {gpus.map((index) => {
          const named = samples.flatMap((s) => s.gpus ?? []).find((g) => g.index === index);
          const of = (s: MetricsSample) => s.gpus?.find((g) => g.index === index);
          const vramTotal = of(last ?? samples[0])?.memory_total_bytes ?? undefined;
          return (
            <div key={index} className="chart-pair">
              <LineChart
                title={`GPU ${index} utilization — ${named?.name ?? ''}`}
                capacity={HISTORY}
                max={100}
                format={pct}
                series={[
                  { label: 'busy', values: samples.map((s) => of(s)?.util_percent ?? null), color: 'var(--chart-3)' },
                ]}
              />
              <LineChart
                title={`GPU ${index} VRAM`}
                capacity={HISTORY}
                max={vramTotal}
                format={(v) => formatBytes(v)}
                series={[
                  {
                    label: 'used',
                    values: samples.map((s) => of(s)?.memory_used_bytes ?? null),
                    color: 'var(--chart-3)',
                  },
                ]}
              />
            </div>
          );
        })}
      </div>
      {gpus.length === 0 && last && (
        <p className="notice" role="note" data-testid="gpu-absent">
          No GPU series: {last.gpu_reason ?? 'no GPU reported'}.
        </p>
      )}
      {last && last.cpu.per_core.length > 0 && (
        <section className="cores" aria-label="Load per CPU core">
          <span className="cores-title">Per core</span>
          {last.cpu.per_core.map((v, i) => (
            <div key={i} className="core">
              <div className="core-bar" aria-hidden="true">
                <div className="core-fill" style={{ height: `${Math.max(2, v)}%` }} />
              </div>
              <span>
                <span className="visually-hidden">Core {i}: </span>
                {Math.round(v)}%
              </span>
            </div>
          ))}
        </section>
      )}
      <SpeedHistory />
    </section>
  );
}
