import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { CatalogueEntry, DownloadJob } from '../api/types';
import { FakeBackend, json, sseStream } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { ModelsView } from './ModelsView';

const entry: CatalogueEntry = {
  id: 'qwen',
  name: 'Qwen2.5 0.5B Instruct (Q4_K_M)',
  description: 'Small and quick.',
  kind: 'chat',
  filename: 'qwen.gguf',
  size: 400 * 1024 * 1024,
  license: 'apache-2.0',
  installed: false,
  download: null,
};

function job(state: DownloadJob['state'], bytes: number): DownloadJob {
  return {
    id: 'd1',
    catalogue_id: 'qwen',
    filename: 'qwen.gguf',
    name: entry.name,
    state,
    phase: state === 'downloading' ? 'downloading' : null,
    bytes_done: bytes,
    bytes_total: entry.size,
    rate: 8 * 1024 * 1024,
    eta_seconds: 25,
    error: null,
  };
}

describe('ModelsView', () => {
  it('downloads from the catalogue with progress, pause and resume', async () => {
    let events = sseStream();
    const fake = new FakeBackend()
      .on('GET', '/api/models', () =>
        json({
          models: [
            {
              id: 'SmolLM2.gguf',
              path: '/m',
              size: 98 * 1024 * 1024,
              ok: true,
              kind: 'chat',
              info: { quantization: 'Q4_1', context_length: 8192, parameter_count: 134_515_008 },
              error: null,
            },
          ],
        }),
      )
      .on('GET', '/api/status', () => json({ version: '0', engine: { loaded: null } }))
      .on('GET', '/api/preferences', () =>
        json({ preferences: {}, effective: { default_model: null, sources: {} }, bounds: {}, problem: null }),
      )
      .on('GET', '/api/models/catalogue', () => json({ models: [entry] }))
      .on('POST', '/api/models/downloads', () => json(job('queued', 0), 202))
      .on('GET', '/api/models/downloads/d1/events', () => events.response)
      .on('POST', '/api/models/downloads/d1/pause', () => {
        events.push('progress', job('paused', 100 * 1024 * 1024));
        events.end();
        return json(job('paused', 100 * 1024 * 1024));
      })
      .on('POST', '/api/models/downloads/d1/resume', () => {
        events = sseStream();
        return json(job('downloading', 100 * 1024 * 1024));
      });
    renderWithApp(<ModelsView />, fake);

    const row = await screen.findByTestId('model-row');
    expect(row).toHaveTextContent('Q4_1');
    expect(row).toHaveTextContent('8,192');
    expect(row).toHaveTextContent('135M');

    const item = await screen.findByTestId('catalogue-item');
    await userEvent.click(within(item).getByRole('button', { name: 'Download' }));
    await act(async () => {
      events.push('progress', job('downloading', 200 * 1024 * 1024));
      await new Promise((r) => setTimeout(r, 10));
    });
    const bar = within(item).getByRole('progressbar', { name: `Download of ${entry.name}` });
    expect(bar).toHaveAttribute('value', String(200 * 1024 * 1024));
    expect(item).toHaveTextContent('8.0 MiB/s');
    expect(item).toHaveTextContent('25 s left');

    await userEvent.click(within(item).getByRole('button', { name: 'Pause' }));
    expect(await within(item).findByRole('button', { name: 'Resume' })).toBeInTheDocument();
    await userEvent.click(within(item).getByRole('button', { name: 'Resume' }));
    expect(await within(item).findByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(fake.callsTo('POST', '/api/models/downloads')[0].body).toEqual({ catalogue_id: 'qwen' });
  });

  it('offers Resume, not Download, for a failed download whose partial file is kept', async () => {
    const offline: DownloadJob = {
      ...job('failed', 100 * 1024 * 1024),
      resumable: true,
      error: {
        code: 'offline',
        message: 'No internet connection (could not reach huggingface.co). Check the connection, then try again.',
      },
    };
    const fake = new FakeBackend()
      .on('GET', '/api/models', () => json({ models: [] }))
      .on('GET', '/api/status', () => json({ version: '0', engine: { loaded: null } }))
      .on('GET', '/api/preferences', () =>
        json({ preferences: {}, effective: { default_model: null, sources: {} }, bounds: {}, problem: null }),
      )
      .on('GET', '/api/models/catalogue', () => json({ models: [{ ...entry, download: offline }] }))
      .on('POST', '/api/models/downloads/d1/resume', () => json(job('queued', 100 * 1024 * 1024)))
      .on('GET', '/api/models/downloads/d1/events', () => sseStream().response);
    renderWithApp(<ModelsView />, fake);

    const item = await screen.findByTestId('catalogue-item');
    expect(item).toHaveTextContent('No internet connection (could not reach huggingface.co)');
    expect(within(item).queryByRole('button', { name: 'Download' })).toBeNull();
    expect(within(item).getByRole('button', { name: 'Discard' })).toBeInTheDocument();
    await userEvent.click(within(item).getByRole('button', { name: 'Resume' }));
    expect(fake.callsTo('POST', '/api/models/downloads/d1/resume')).toHaveLength(1);
    expect(fake.callsTo('POST', '/api/models/downloads')).toHaveLength(0);
  });
});
