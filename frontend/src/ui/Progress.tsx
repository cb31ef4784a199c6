import { formatBytes, formatDuration, formatPercent, formatRate } from './format';

interface ProgressProps {
  label: string;
  done: number;
  total: number | null | undefined;
  rate?: number | null;
  eta?: number | null;
}

/** A progress bar with bytes, rate and time left; indeterminate while the total is unknown. */
export function Progress({ label, done, total, rate, eta }: ProgressProps) {
  const known = typeof total === 'number' && total > 0;
  return (
    <div className="progress-block">
      <progress
        className="progress"
        aria-label={label}
        max={known ? total : undefined}
        value={known ? Math.min(done, total) : undefined}
      />
      <div className="progress-facts">
        <span>
          {formatBytes(done)}
          {known ? ` of ${formatBytes(total)} (${formatPercent(done, total)})` : ''}
        </span>
        {rate !== undefined && <span>{formatRate(rate)}</span>}
        {eta !== undefined && <span>{eta ? `${formatDuration(eta)} left` : ''}</span>}
      </div>
    </div>
  );
}
