import { FakeBackend, apiError, connectedApi, sseStream } from '../test/fakeBackend';
import { MetricsStore } from './metricsStore';

const sample = (t: number) => ({
  t,
  cpu: { percent: 10, per_core: [10] },
  memory: { total_bytes: 100, used_bytes: 50, percent: 50 },
  process: { rss_bytes: 1, cpu_percent: 0 },
  gpus: null,
  gpu_reason: 'NVML library not found',
});

describe('MetricsStore', () => {
  it('collects samples, goes offline when the stream breaks, and reconnects at once when kicked', async () => {
    let stream = sseStream();
    let up = true;
    const backend = new FakeBackend().on('GET', /^\/api\/metrics\/stream/, () =>
      up ? stream.response : apiError(503, 'down', 'restarting'),
    );
    const naps: number[] = [];
    // A sleep that never ends: only kick() can end the backoff.
    const store = new MetricsStore(
      connectedApi(backend),
      (ms) => {
        naps.push(ms);
        return new Promise(() => undefined);
      },
      () => 0, // no jitter
    );
    store.start();
    stream.push('sample', sample(1));
    stream.push('sample', sample(2));
    await vi.waitFor(() => expect(store.get().samples.map((s) => s.t)).toEqual([1, 2]));
    expect(store.get().status).toBe('live');

    up = false;
    stream.fail(new TypeError('network error'));
    await vi.waitFor(() => expect(store.get().status).toBe('offline'));
    expect(naps).toEqual([1000]);

    up = true;
    stream = sseStream();
    store.kick();
    stream.push('sample', sample(3));
    await vi.waitFor(() => expect(store.get().status).toBe('live'));
    expect(store.get().samples.map((s) => s.t)).toEqual([1, 2, 3]);
    store.stop();
  });

  it('backs off from 1 s to 30 s while the backend stays away, with jitter', async () => {
    const backend = new FakeBackend().on('GET', /^\/api\/metrics\/stream/, () => {
      throw new TypeError('Failed to fetch');
    });
    const naps: number[] = [];
    const store = new MetricsStore(
      connectedApi(backend),
      async (ms) => {
        naps.push(ms);
        if (naps.length >= 8) store.stop();
      },
      () => 0.5,
    );
    store.start();
    await vi.waitFor(() => expect(naps).toHaveLength(8));
    expect(naps).toEqual([900, 1800, 3600, 7200, 14_400, 27_000, 27_000, 27_000]);
    expect(store.get().status).toBe('offline');
    // One request per wait: no retry storm behind the backoff.
    expect(backend.callsTo('GET', /^\/api\/metrics\/stream/).length).toBeLessThanOrEqual(9);
  });
});
