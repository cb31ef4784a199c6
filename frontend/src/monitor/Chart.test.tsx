import { render, screen } from '@testing-library/react';
import type { MetricsSample } from '../api/types';
import { LineChart, linePaths, niceMax } from './Chart';
import { pushSample } from './metricsStore';

describe('linePaths', () => {
  it('places the newest sample at the right edge and scales to the max', () => {
    expect(linePaths([0, 50, 100], 3, 100, 100)).toEqual(['0.0,100.0 300.0,50.0 600.0,0.0']);
    // Fewer samples than capacity: they fill from the right.
    expect(linePaths([100], 3, 100, 100)).toEqual(['600.0,0.0']);
  });

  it('breaks the line where a value is missing, and clamps', () => {
    expect(linePaths([10, null, 200], 3, 100, 10)).toEqual(['0.0,9.0', '600.0,0.0']);
  });

  it.each([
    [[0.3], 1],
    [[7], 10],
    [[12], 20],
    [[230], 250],
    [[], 1],
  ])('niceMax(%j) = %s', (values, top) => expect(niceMax(values)).toBe(top));
});

describe('LineChart', () => {
  it('describes its latest values for screen readers', () => {
    render(
      <LineChart
        title="CPU"
        capacity={10}
        max={100}
        format={(v) => `${v}%`}
        series={[{ label: 'all cores', values: [10, 42], color: 'red' }]}
      />,
    );
    expect(screen.getByRole('img', { name: 'CPU: all cores 42%' })).toBeInTheDocument();
  });
});

describe('pushSample', () => {
  it('keeps the last N samples', () => {
    let samples: MetricsSample[] = [];
    for (let t = 0; t < 5; t++) samples = pushSample(samples, { t } as MetricsSample, 3);
    expect(samples.map((s) => s.t)).toEqual([2, 3, 4]);
  });
});
