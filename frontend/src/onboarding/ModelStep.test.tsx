import { screen, within } from '@testing-library/react';
import type { CatalogueEntry, ModelFit } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { ModelStep } from './ModelStep';

const GIB = 1024 ** 3;

function offer(id: string, name: string, size: number, mode: ModelFit['mode'] | null): CatalogueEntry {
  return {
    id,
    name,
    description: '',
    kind: 'chat',
    filename: `${id}.gguf`,
    size,
    license: 'mit',
    installed: false,
    download: null,
    fit: mode && {
      mode,
      basis: 'catalogue',
      n_ctx: 4096,
      layers_on_gpu: null,
      n_layers: null,
      vram_bytes: 0,
      ram_bytes: size,
      free_vram_bytes: null,
      ram_total_bytes: 16 * GIB,
      ram_available_bytes: 8 * GIB,
      fits_free_ram: true,
      reason: 'Runs on the CPU.',
    },
  };
}

const starter = offer('smollm2', 'SmolLM2 135M Instruct (Q4_1)', 98 * 1024 * 1024, 'cpu');
const llama = offer('llama-1b', 'Llama 3.2 1B Instruct (Q4_K_M)', 0.8 * GIB, 'full');

function backend(recommended: { id: string; why: string } | null, models: unknown[] = []) {
  return new FakeBackend()
    .on('GET', '/api/models', () => json({ models, default_model: null, default_source: 'none', loaded_model: null }))
    .on('GET', '/api/status', () => json({ version: '0', engine: { loaded: null } }))
    .on('GET', '/api/models/catalogue', () => json({ models: [starter, llama], recommended }));
}

describe('ModelStep', () => {
  it('recommends the best fitting model with its size and fit, ready to download', async () => {
    renderWithApp(<ModelStep />, backend({ id: 'llama-1b', why: 'fits' }));
    const pick = await screen.findByTestId('recommended-model');
    expect(pick).toHaveTextContent(
      'Recommended for this PC: Llama 3.2 1B Instruct (Q4_K_M) (819.2 MiB, Full GPU offload)',
    );
    expect(within(pick).getByRole('button', { name: 'Download' })).toBeInTheDocument();
  });

  it('falls back to the starter when nothing is known to fit (offline: no sizes)', async () => {
    renderWithApp(<ModelStep />, backend({ id: 'smollm2', why: 'starter' }));
    const pick = await screen.findByTestId('recommended-model');
    expect(pick).toHaveTextContent('To start with: SmolLM2 135M Instruct (Q4_1) (98.0 MiB, CPU)');
  });

  it('names the model chats start with when one is installed', async () => {
    const smol = {
      id: 'SmolLM2-135M-Instruct.Q4_1.gguf',
      name: 'SmolLM2 135M Instruct (Q4_1)',
      path: '/m',
      size: 1,
      ok: true,
      kind: 'chat',
      chat: true,
      info: null,
      error: null,
    };
    renderWithApp(<ModelStep />, backend({ id: 'llama-1b', why: 'fits' }, [smol]));
    const step = await screen.findByText('SmolLM2 135M Instruct (Q4_1)');
    expect(step.closest('[data-testid="onboarding-model"]')).toHaveTextContent('SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(await screen.findByTestId('recommended-model')).toHaveTextContent(
      'Also a good fit for this PC: Llama 3.2 1B Instruct (Q4_K_M)',
    );
  });
});
