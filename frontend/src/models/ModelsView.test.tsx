import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { CatalogueEntry, DownloadJob, GgufInfo, ModelEntry, ModelFit, ToolFormat } from '../api/types';
import { FakeBackend, json, sseStream } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { FIT_WORDS } from './FitBadge';
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

  it('badges the default and the loaded model from the start, each fit, and loads and ejects', async () => {
    let loaded: string | null = 'SmolLM2-135M-Instruct.Q4_1.gguf';
    const fake = new FakeBackend()
      .on('GET', '/api/models', () =>
        json({
          models: [
            installed('SmolLM2-135M-Instruct.Q4_1.gguf', 'SmolLM2 135M Instruct (Q4_1)', true, fit('full')),
            { ...installed('tiny.gguf', 'tiny', true, fit('partial')), info: info('hermes') },
            installed('stories260K.gguf', 'stories260K', false, fit('cpu')),
            installed('huge.gguf', 'huge', true, fit('too_large')),
          ],
          default_model: 'tiny.gguf',
          default_source: 'automatic',
          loaded_model: loaded,
        }),
      )
      .on('GET', '/api/status', () =>
        json({
          version: '0',
          engine: { loaded: loaded ? { backend: 'llama', model: loaded, n_ctx: 4096, details: {} } : null },
        }),
      )
      .on('GET', '/api/models/catalogue', () => json({ models: [{ ...entry, fit: fit('cpu') }] }))
      .on('POST', '/api/engine/unload', () => {
        loaded = null;
        return json({ loaded: null });
      })
      .on('POST', '/api/engine/load', (call) => {
        loaded = (call.body as { model: string }).model;
        return json({ loaded: {} });
      });
    renderWithApp(<ModelsView />, fake);

    const smol = await screen.findByRole('row', { name: /SmolLM2 135M Instruct \(Q4_1\)/ });
    // The catalogue's name, the file under it.
    expect(smol).toHaveTextContent('SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(within(smol).getByText('loaded')).toBeInTheDocument();
    expect(within(smol).getByText(FIT_WORDS.full)).toHaveAttribute('title', expect.stringContaining('3.0 GiB of VRAM'));
    const tiny = screen.getByRole('row', { name: /^tiny/ });
    // Nobody chose a default: the badge is there anyway, on the model a new chat loads.
    expect(within(tiny).getByText('default')).toBeInTheDocument();
    expect(within(tiny).getByText('Partial offload')).toBeInTheDocument();
    // Its chat template writes tool calls in a format the /v1 API reads; SmolLM2's has none.
    expect(within(tiny).getByText('tools')).toHaveAttribute('title', expect.stringContaining('<tool_call> tags'));
    expect(within(smol).queryByText('tools')).toBeNull();
    const stories = screen.getByRole('row', { name: /stories260K/ });
    expect(within(stories).getByText('CPU')).toBeInTheDocument();
    expect(within(stories).getByText('not for chat')).toBeInTheDocument();
    expect(within(stories).queryByRole('button', { name: /Load/ })).toBeNull();
    expect(within(screen.getByRole('row', { name: /huge/ })).getByText('Too large for this PC')).toBeInTheDocument();
    expect(within(await screen.findByTestId('catalogue-item')).getByText('CPU')).toBeInTheDocument();

    await userEvent.click(within(smol).getByRole('button', { name: 'Eject SmolLM2 135M Instruct (Q4_1)' }));
    await waitFor(() => expect(within(smol).queryByText('loaded')).toBeNull());
    expect(fake.callsTo('POST', '/api/engine/unload')).toHaveLength(1);

    await userEvent.click(within(tiny).getByRole('button', { name: 'Load tiny' }));
    await waitFor(() => expect(within(tiny).getByText('loaded')).toBeInTheDocument());
    expect(fake.callsTo('POST', '/api/engine/load')[0].body).toEqual({ model: 'tiny.gguf' });
    expect(within(tiny).getByRole('button', { name: 'Eject tiny' })).toBeInTheDocument();
  });
});

function fit(mode: ModelFit['mode']): ModelFit {
  const GIB = 1024 ** 3;
  return {
    mode,
    basis: 'gguf',
    n_ctx: 4096,
    layers_on_gpu: mode === 'full' ? 30 : mode === 'partial' ? 10 : 0,
    n_layers: 30,
    vram_bytes: mode === 'cpu' ? 0 : 3 * GIB,
    ram_bytes: GIB,
    free_vram_bytes: 8 * GIB,
    ram_total_bytes: 16 * GIB,
    ram_available_bytes: 8 * GIB,
    fits_free_ram: true,
    reason: 'The numbers in words.',
  };
}

function installed(id: string, name: string, chat: boolean, f: ModelFit): ModelEntry {
  return {
    id,
    name,
    path: `/m/${id}`,
    size: 100 * 1024 * 1024,
    ok: true,
    kind: 'chat',
    chat,
    info: null,
    error: null,
    fit: f,
  };
}

function info(tool_format: ToolFormat): GgufInfo {
  return {
    architecture: 'qwen2',
    name: null,
    parameter_count: 494_032_768,
    quantization: 'Q4_K_M',
    context_length: 32768,
    block_count: 24,
    has_chat_template: true,
    tool_format,
    is_embedding: false,
    file_size: 100 * 1024 * 1024,
  };
}
