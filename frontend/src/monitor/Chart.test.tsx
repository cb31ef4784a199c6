import { render, screen } from '@testing-library/react';
import type { MetricsSample } from '../api/types';
import { BarChart, LineChart, countLabel, linePaths, niceMax } from './Chart';
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

describe('BarChart', () => {
  it.each([
    [0, 0, ''],
    [1, 1, '1 answer'],
    [9, 9, '9 answers'],
    [60, 75, '75 answers, latest 60 shown'],
  ])('countLabel(%i shown, %i in all) = %j', (shown, total, label) => expect(countLabel(shown, total)).toBe(label));

  it('counts every answer, those without a speed too, and says when only the latest are drawn', () => {
    const bars = [
      { key: 1, value: 12.5, label: 'a' },
      { key: 2, value: null, label: 'too short' },
      { key: 3, value: 30, label: 'c' },
    ];
    const { container, rerender } = render(<BarChart title="Speed" bars={bars} format={(v) => v.toFixed(1)} />);
    expect(container.querySelectorAll('rect.bar')).toHaveLength(3);
    expect(container.querySelectorAll('rect.bar-unmeasured')).toHaveLength(1);
    expect(screen.getByTestId('answer-count')).toHaveTextContent('3 answers');
    expect(screen.getByRole('img', { name: 'Speed: 3 answers, latest 30.0' })).toBeInTheDocument();
    rerender(<BarChart title="Speed" bars={bars} total={9} format={(v) => v.toFixed(1)} />);
    expect(screen.getByTestId('answer-count')).toHaveTextContent('9 answers, latest 3 shown');
  });
});
