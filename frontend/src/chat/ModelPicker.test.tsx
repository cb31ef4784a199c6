import { screen, within } from '@testing-library/react';
import type { ModelEntry } from '../api/types';
import type { ModelsState } from '../models/useModels';
import { isChatModel } from '../models/useModels';
import { FakeBackend } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { ModelPicker } from './ModelPicker';

function entry(id: string, name: string, chat: boolean, kind = 'chat'): ModelEntry {
  return { id, name, path: `/m/${id}`, size: 1, ok: true, kind, chat, info: null, error: null };
}

const all = [
  entry('SmolLM2-135M-Instruct.Q4_1.gguf', 'SmolLM2 135M Instruct (Q4_1)', true),
  entry('stories260K.gguf', 'stories260K', false),
  entry('all-MiniLM-L6-v2-Q8_0.gguf', 'all-MiniLM-L6-v2-Q8_0', false, 'embedding'),
];

function state(overrides: Partial<ModelsState> = {}): ModelsState {
  return {
    models: all,
    chatModels: all.filter(isChatModel),
    loaded: null,
    defaultModel: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    defaultSource: 'automatic',
    error: null,
    ready: true,
    reload: async () => undefined,
    ...overrides,
  };
}

describe('ModelPicker', () => {
  it('offers chat models only, by the name the Models page uses', () => {
    renderWithApp(<ModelPicker models={state()} value={null} onChange={() => undefined} />, new FakeBackend());
    const picker = screen.getByLabelText('Model');
    const options = within(picker).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['SmolLM2 135M Instruct (Q4_1)']);
    expect(picker).toHaveValue('SmolLM2-135M-Instruct.Q4_1.gguf');
  });

  it('shows a conversation’s non-chat model without offering it', () => {
    renderWithApp(
      <ModelPicker models={state()} value="stories260K.gguf" onChange={() => undefined} />,
      new FakeBackend(),
    );
    const stray = screen.getByRole('option', { name: 'stories260K (not a chat model)' });
    expect(stray).toBeDisabled();
    expect(screen.queryByRole('option', { name: /MiniLM/ })).toBeNull();
  });

  it('says it is loading until the list arrives, then that nothing is installed', () => {
    const none = { models: [], chatModels: [], defaultModel: null };
    const first = renderWithApp(
      <ModelPicker models={state({ ...none, ready: false })} value={null} onChange={() => undefined} />,
      new FakeBackend(),
    );
    let picker = screen.getByLabelText('Model');
    expect(picker).toHaveAttribute('aria-busy', 'true');
    expect(within(picker).getByRole('option').textContent).toBe('Loading models…');
    first.unmount();
    renderWithApp(<ModelPicker models={state(none)} value={null} onChange={() => undefined} />, new FakeBackend());
    picker = screen.getByLabelText('Model');
    expect(picker).toHaveAttribute('aria-busy', 'false');
    expect(within(picker).getByRole('option').textContent).toBe('No chat model installed');
  });

  it('says the list failed, and why, rather than that nothing is installed', () => {
    renderWithApp(
      <ModelPicker
        models={state({ models: [], chatModels: [], defaultModel: null, error: 'backend unreachable' })}
        value={null}
        onChange={() => undefined}
      />,
      new FakeBackend(),
    );
    expect(within(screen.getByLabelText('Model')).getByRole('option').textContent).toBe('Models unavailable');
    expect(screen.getByText('Could not list models: backend unreachable')).toBeInTheDocument();
  });
});
