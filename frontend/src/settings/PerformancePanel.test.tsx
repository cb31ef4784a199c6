import { fireEvent, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { OffloadEstimate, PreferencesDoc } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { PerformancePanel, changes, contextText, estimateText, parallelText } from './PerformancePanel';

const MIB = 1024 * 1024;

const estimate: OffloadEstimate = {
  model: 'SmolLM2.gguf',
  n_layers: 4,
  n_ctx: 2048,
  free_vram_bytes: 1000 * MIB,
  gpu_offload: true,
  auto: {
    n_gpu_layers: -1,
    layers_on_gpu: 4,
    n_layers: 4,
    mode: 'full',
    source: 'auto',
    estimated_vram_bytes: 700 * MIB,
    free_vram_bytes: 1000 * MIB,
    reason: 'All 4 layers fit.',
  },
  chosen: null,
  estimates: [0, 600 * MIB, 650 * MIB, 900 * MIB, 1200 * MIB],
};

function doc(prefs: Partial<PreferencesDoc['preferences']> = {}): PreferencesDoc {
  const preferences = {
    n_threads: null,
    n_ctx: null,
    n_gpu_layers: null,
    n_parallel: null,
    default_model: null,
    ...prefs,
  };
  return {
    preferences,
    effective: {
      ...preferences,
      n_ctx: preferences.n_ctx ?? 4096,
      sources: {
        n_threads: 'environment',
        n_ctx: 'environment',
        n_gpu_layers: 'environment',
        default_model: 'environment',
      },
    },
    bounds: { n_threads: { minimum: 1, maximum: 1024, description: '' } },
    problem: null,
  };
}

describe('estimateText', () => {
  it('states the planner choice, a manual choice, and a choice over the free VRAM', () => {
    expect(estimateText(estimate, null)).toBe(
      'Auto: 4 of 4 layers, about 700.0 MiB VRAM of 1000.0 MiB free. All 4 layers fit.',
    );
    expect(estimateText(estimate, 2)).toBe('2 of 4 layers: about 650.0 MiB VRAM of 1000.0 MiB free.');
    expect(estimateText(estimate, -1)).toContain(
      '4 of 4 layers: about 1.2 GiB VRAM of 1000.0 MiB free — more than is free',
    );
  });

  it('sends only what changed', () => {
    expect(
      changes(
        { n_threads: null, n_ctx: null, n_gpu_layers: null, n_parallel: null },
        { n_threads: 4, n_ctx: null, n_gpu_layers: null, n_parallel: 4 },
      ),
    ).toEqual({ n_threads: 4, n_parallel: 4 });
  });
});

describe('contextText', () => {
  it('says what the model was trained for and what it uses now', () => {
    const smol = { model: 'SmolLM2.gguf', n_ctx: 4096, trained_ctx: 8192 };
    expect(contextText(smol)).toBe('SmolLM2.gguf was trained for 8,192 tokens and uses 4,096 now.');
    expect(contextText({ ...smol, n_ctx: 8192 })).toBe('SmolLM2.gguf uses all 8,192 tokens it was trained for.');
    expect(contextText({ ...smol, trained_ctx: null })).toBe('SmolLM2.gguf uses 4,096 tokens now.');
  });
});

describe('parallelText', () => {
  it('says who gains from parallel answers and what they cost', () => {
    expect(parallelText(1)).toContain('One answer at a time');
    expect(parallelText(4)).toContain('Up to 4 answers are generated together');
    expect(parallelText(4)).toContain('Memory for the context grows 4 times');
  });
});

describe('PerformancePanel', () => {
  it('saves manual GPU layers, threads and context, with the live estimate', async () => {
    let saved = doc();
    const backend = new FakeBackend()
      .on('GET', '/api/preferences', () => json(saved))
      .on('GET', /^\/api\/preferences\/offload/, () => json(estimate))
      .on('PUT', '/api/preferences', (call) => {
        saved = { ...doc({ ...saved.preferences, ...(call.body as object) }), unloaded: true };
        return json(saved);
      });
    renderWithApp(<PerformancePanel cpuThreads={16} />, backend);
    expect(await screen.findByTestId('vram-estimate')).toHaveTextContent('Auto: 4 of 4 layers');
    await userEvent.click(screen.getAllByLabelText('Manual')[0]);
    const slider = screen.getByLabelText('Layers on the GPU');
    // jsdom has no keyboard behaviour for range inputs; set the value as the browser would.
    fireEvent.change(slider, { target: { value: '2' } });
    expect(screen.getByTestId('vram-estimate')).toHaveTextContent('2 of 4 layers: about 650.0 MiB');
    await userEvent.click(screen.getAllByLabelText('Manual')[1]);
    const threads = screen.getByLabelText('Threads');
    await userEvent.clear(threads);
    await userEvent.type(threads, '6');
    await userEvent.selectOptions(screen.getByLabelText('Context size in tokens'), '8192');
    await userEvent.selectOptions(screen.getByLabelText('Answers generated at once'), '4');
    expect(screen.getByTestId('parallel-help')).toHaveTextContent('Up to 4 answers');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await screen.findByText('Saved. The model reloads with these settings on the next answer.'),
    ).toBeInTheDocument();
    expect(backend.callsTo('PUT', '/api/preferences')[0].body).toEqual({
      n_threads: 6,
      n_ctx: 8192,
      n_gpu_layers: 2,
      n_parallel: 4,
    });
  });

  it('has no GPU-layers controls on a runtime that cannot offload', async () => {
    const cpu = { ...estimate, gpu_offload: false, free_vram_bytes: null };
    const backend = new FakeBackend()
      .on('GET', '/api/preferences', () => json(doc()))
      .on('GET', /^\/api\/preferences\/offload/, () => json(cpu));
    renderWithApp(<PerformancePanel cpuThreads={16} />, backend);
    expect(await screen.findByTestId('gpu-layers-cpu-only')).toHaveTextContent('None: the active runtime runs models');
    expect(screen.queryByLabelText('Layers on the GPU')).toBeNull();
    expect(screen.queryByTestId('vram-estimate')).toBeNull();
  });
});
