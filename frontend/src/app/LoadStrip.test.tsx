import { act, screen } from '@testing-library/react';
import { FakeBackend, apiError, sseStream } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { LoadStrip, stripView } from './LoadStrip';

const sample = (t: number, cpu = 12) => ({
  t,
  cpu: { percent: cpu, per_core: [cpu] },
  memory: { total_bytes: 8 * 2 ** 30, used_bytes: 3 * 2 ** 30, percent: 37 },
  process: { rss_bytes: 1, cpu_percent: 0 },
  gpus: null,
  gpu_reason: 'NVML library not found',
});

describe('stripView', () => {
  it('shows the newest figures while live', () => {
    expect(stripView({ samples: [sample(1, 90), sample(2, 12.4)], status: 'live' })).toEqual({
      kind: 'live',
      cpu: 'CPU 12%',
      ram: 'RAM 3.0 GiB',
      gpu: 'GPU —',
    });
  });

  it('drops the figures once the backend is gone: they would be stale', () => {
    expect(stripView({ samples: [sample(1)], status: 'offline' })).toEqual({
      kind: 'offline',
      label: 'Not connected',
      detail: 'reconnecting…',
    });
  });

  it('waits quietly before the first sample', () => {
    expect(stripView({ samples: [], status: 'connecting' })).toEqual({ kind: 'waiting' });
  });
});

describe('LoadStrip', () => {
  it('greys out while disconnected and comes back with new figures', async () => {
    let stream = sseStream();
    let up = true;
    const backend = new FakeBackend().on('GET', /^\/api\/metrics\/stream/, () =>
      up ? stream.response : apiError(503, 'down', 'restarting'),
    );
    const { services } = renderWithApp(<LoadStrip />, backend);
    await act(async () => {
      services.metrics.start();
      stream.push('sample', sample(1, 42));
    });
    const strip = await screen.findByTestId('load-strip');
    await vi.waitFor(() => expect(strip).toHaveTextContent('CPU 42%'));

    up = false;
    await act(async () => stream.fail(new TypeError('network error')));
    await vi.waitFor(() => expect(screen.getByTestId('load-strip')).toHaveClass('offline'));
    expect(screen.getByTestId('load-strip')).toHaveTextContent('Not connected');
    expect(screen.getByTestId('load-strip')).not.toHaveTextContent('42%');

    up = true;
    stream = sseStream();
    await act(async () => {
      services.metrics.kick();
      stream.push('sample', sample(2, 7));
    });
    await vi.waitFor(() => expect(screen.getByTestId('load-strip')).toHaveTextContent('CPU 7%'));
    expect(screen.getByTestId('load-strip')).not.toHaveClass('offline');
    services.metrics.stop();
  });
});
