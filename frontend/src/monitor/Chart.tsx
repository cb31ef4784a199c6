// A small dependency-free SVG line chart: fixed size (no layout jumps), newest sample on the right.

import { plural } from '../ui/format';

export interface Series {
  label: string;
  values: (number | null)[];
  /** CSS color or variable, e.g. var(--chart-1) */
  color: string;
}

interface LineChartProps {
  title: string;
  series: Series[];
  /** Top of the scale; when absent, the largest value (rounded up). */
  max?: number;
  capacity: number;
  format: (value: number) => string;
  height?: number;
}

const WIDTH = 600;

/** Points for an SVG polyline; null values break the line into segments. */
export function linePaths(values: (number | null)[], capacity: number, max: number, height: number): string[] {
  const step = WIDTH / Math.max(1, capacity - 1);
  const offset = capacity - values.length;
  const paths: string[] = [];
  let current: string[] = [];
  values.forEach((value, i) => {
    if (value === null || !Number.isFinite(value)) {
      if (current.length) paths.push(current.join(' '));
      current = [];
      return;
    }
    const x = (offset + i) * step;
    const y = height - (Math.max(0, Math.min(value, max)) / max) * height;
    current.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  if (current.length) paths.push(current.join(' '));
  return paths;
}

/** The polyline closed down to the baseline, for a soft area under the main series. */
export function areaPoints(points: string, height: number): string {
  const xs = points.split(' ').map((p) => p.split(',')[0]);
  return `${xs[0]},${height} ${points} ${xs[xs.length - 1]},${height}`;
}

export function niceMax(values: number[]): number {
  const top = Math.max(1, ...values);
  const magnitude = 10 ** Math.floor(Math.log10(top));
  for (const m of [1, 2, 2.5, 5, 10]) if (top <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

export function LineChart({ title, series, max, capacity, format, height = 120 }: LineChartProps) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = max ?? niceMax(all);
  const latest = series.map((s) => {
    const last = [...s.values].reverse().find((v) => v !== null);
    return { ...s, last: last ?? null };
  });
  const summary = latest.map((s) => `${s.label} ${s.last !== null ? format(s.last) : 'no data'}`).join(', ');
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {latest.map((s) => (
            <span key={s.label} className="legend-item">
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label} <strong>{s.last !== null ? format(s.last) : '—'}</strong>
            </span>
          ))}
        </span>
      </figcaption>
      <div className="chart-body">
        <div className="chart-scale" aria-hidden="true">
          <span>{format(top)}</span>
          <span>{format(top / 2)}</span>
          <span>{format(0)}</span>
        </div>
        <svg
          viewBox={`0 0 ${WIDTH} ${height}`}
          preserveAspectRatio="none"
          className="chart-svg"
          role="img"
          aria-label={`${title}: ${summary}`}
          style={{ height }}
        >
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} x1={0} x2={WIDTH} y1={height * f} y2={height * f} className="grid" />
          ))}
          {series.map((s, n) =>
            linePaths(s.values, capacity, top, height).map((points, i) => (
              <g key={`${s.label}-${i}`}>
                {n === 0 && <polygon points={areaPoints(points, height)} fill={s.color} opacity={0.12} />}
                <polyline
                  points={points}
                  fill="none"
                  stroke={s.color}
                  strokeWidth={2}
                  vectorEffect="non-scaling-stroke"
                />
              </g>
            )),
          )}
        </svg>
      </div>
      <div className="chart-time" aria-hidden="true">
        <span>{capacity} s ago</span>
        <span>now</span>
      </div>
    </figure>
  );
}

interface Bar {
  key: string | number;
  /** null: nothing to measure (an answer too short for a speed); drawn as a stub, still counted. */
  value: number | null;
  label: string;
}

/** "9 answers", or "75 answers, latest 60 shown" when the chart holds only the newest. Pure. */
export function countLabel(shown: number, total: number = shown): string {
  if (total === 0) return '';
  const all = plural(total, 'answer');
  return total > shown ? `${all}, latest ${shown} shown` : all;
}

const STUB = 2;

export function BarChart({
  title,
  bars,
  total,
  format,
  height = 120,
}: {
  title: string;
  bars: Bar[];
  /** How many there are in all; bars may hold only the latest. Defaults to bars.length. */
  total?: number;
  format: (v: number) => string;
  height?: number;
}) {
  const top = niceMax(bars.flatMap((b) => (b.value === null ? [] : [b.value])));
  const width = WIDTH / Math.max(bars.length, 20);
  const last = bars[bars.length - 1];
  const count = countLabel(bars.length, Math.max(total ?? bars.length, bars.length));
  const latest = last ? (last.value === null ? '—' : format(last.value)) : null;
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {latest !== null ? (
            <span>
              latest <strong>{latest}</strong>
            </span>
          ) : (
            'no answers yet'
          )}
        </span>
      </figcaption>
      <div className="chart-body">
        <div className="chart-scale" aria-hidden="true">
          <span>{format(top)}</span>
          <span>{format(top / 2)}</span>
          <span>{format(0)}</span>
        </div>
        <svg
          viewBox={`0 0 ${WIDTH} ${height}`}
          preserveAspectRatio="none"
          className="chart-svg"
          role="img"
          aria-label={`${title}: ${count || 'no answers'}${latest !== null ? `, latest ${latest}` : ''}`}
          style={{ height }}
        >
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} x1={0} x2={WIDTH} y1={height * f} y2={height * f} className="grid" />
          ))}
          {bars.map((b, i) => {
            const h = b.value === null ? STUB : (b.value / top) * height;
            return (
              <rect
                key={b.key}
                x={i * width + 1}
                y={height - h}
                width={Math.max(1, width - 2)}
                height={h}
                className={b.value === null ? 'bar bar-unmeasured' : 'bar'}
                opacity={b.value === null ? 0.4 : undefined}
              >
                <title>{b.label}</title>
              </rect>
            );
          })}
        </svg>
      </div>
      <div className="chart-time" aria-hidden="true">
        <span data-testid="answer-count">{count}</span>
        <span>newest</span>
      </div>
    </figure>
  );
}
