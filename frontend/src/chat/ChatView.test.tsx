import { act, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Conversation } from '../api/types';
import { FakeBackend, apiError, json, sseStream } from '../test/fakeBackend';
import { message } from '../test/messages';
import { renderWithApp } from '../test/render';
import { ChatView } from './ChatView';

const conversation: Conversation = {
  id: 'c1',
  title: 'Geography',
  system_prompt: null,
  model: null,
  created_at: '2026-01-01T10:00:00Z',
  updated_at: '2026-01-01T10:00:00Z',
};

function backend() {
  return new FakeBackend()
    .on('GET', '/api/conversations/c1', () => json(conversation))
    .on('GET', '/api/conversations/c1/messages', () => json([]))
    .on('GET', '/api/models', () =>
      json({
        models: [
          {
            id: 'SmolLM2.gguf',
            path: '/m/SmolLM2.gguf',
            size: 1,
            ok: true,
            kind: 'chat',
            info: { quantization: 'Q4_1' },
            error: null,
          },
        ],
      }),
    )
    .on('GET', '/api/status', () => json({ version: '0', engine: { loaded: null, busy: false, waiting: 0 } }));
}

describe('ChatView', () => {
  it('streams an answer with its queue position, stops on Escape, and shows the stats', async () => {
    const stream = sseStream();
    const user = message('user', 'Tell me a story', { conversation_id: 'c1' });
    const fake = backend()
      .on('POST', '/api/conversations/c1/messages', () => stream.response)
      .on('POST', '/api/conversations/c1/stop', () => {
        stream.push('done', {
          message: message('assistant', 'Once upon', { finish_reason: 'stopped', tokens_per_s: 31.2 }),
        });
        stream.end();
        return json({ stopped: true });
      });
    renderWithApp(<ChatView id="c1" />, fake);
    const box = await screen.findByLabelText('Message');
    await userEvent.type(box, 'Tell me a story{Enter}');
    await act(async () => {
      stream.push('start', { run_id: 'r', conversation_id: 'c1', user_message: user });
      stream.push('queued', { position: 2 });
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByTestId('pending-status')).toHaveTextContent('Waiting in line: position 2');
    await act(async () => {
      stream.push('delta', { content: 'Once upon' });
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByRole('article', { name: 'Hearth is answering' })).toHaveTextContent('Once upon');
    await userEvent.keyboard('{Escape}');
    expect(await screen.findByText('Stopped')).toBeInTheDocument();
    expect(screen.getByTestId('message-stats')).toHaveTextContent('31.2 tok/s');
    expect(fake.callsTo('POST', '/api/conversations/c1/stop')).toHaveLength(1);
    // Screen readers hear the finished answer once, not every token.
    expect(screen.getByText('Hearth answered: Once upon')).toHaveAttribute('role', 'status');
  });

  it('shows a refused send inline, with Retry, and keeps the typed text', async () => {
    let refuse = true;
    const fake = backend().on('POST', '/api/conversations/c1/messages', () =>
      refuse
        ? apiError(404, 'no_model', 'No chat model is installed.')
        : new Response(
            'event: start\ndata: {"run_id":"r","conversation_id":"c1"}\n\nevent: done\ndata: ' +
              JSON.stringify({ message: message('assistant', 'Paris.') }) +
              '\n\n',
          ),
    );
    renderWithApp(<ChatView id="c1" />, fake);
    await userEvent.type(await screen.findByLabelText('Message'), 'What is the capital of France?{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No chat model is installed.');
    expect(screen.getByLabelText('Message')).toHaveValue('What is the capital of France?');
    refuse = false;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Paris.')).toBeInTheDocument();
    const sent = fake
      .callsTo('POST', '/api/conversations/c1/messages')
      .map((c) => (c.body as { content: string }).content);
    expect(sent).toEqual(['What is the capital of France?', 'What is the capital of France?']);
  });
});
