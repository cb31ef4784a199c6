import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { message } from '../test/messages';
import { MessageView } from './MessageView';

const noop = () => undefined;

describe('MessageView', () => {
  it('renders Markdown with a highlighted code block and a working copy button', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const text = 'Here:\n\n```python\nprint("hi")\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |';
    render(
      <MessageView
        message={message('assistant', text)}
        canEdit={false}
        canRegenerate
        busy={false}
        onRegenerate={noop}
        onEdit={noop}
      />,
    );
    expect(screen.getByRole('table')).toBeInTheDocument();
    expect(document.querySelector('code.hljs.language-python .hljs-built_in')).not.toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Copy code' }));
    expect(writeText).toHaveBeenCalledWith('print("hi")');
    expect(screen.getByRole('button', { name: 'Copied' })).toBeInTheDocument();
  });

  it('shows tokens/s, time to first token and why an answer ended', () => {
    render(
      <MessageView
        message={message('assistant', 'Once upon', { finish_reason: 'stopped', tokens_per_s: 12.34, ttft_ms: 250 })}
        canEdit={false}
        canRegenerate={false}
        busy={false}
        onRegenerate={noop}
        onEdit={noop}
      />,
    );
    const stats = screen.getByTestId('message-stats');
    expect(stats).toHaveTextContent('12.3 tok/s');
    expect(stats).toHaveTextContent('first token 250 ms');
    expect(stats).toHaveTextContent('Stopped');
  });

  it('never loads a remote image from an answer', () => {
    render(
      <MessageView
        message={message('assistant', '![cat](http://example.com/cat.png)')}
        canEdit={false}
        canRegenerate={false}
        busy={false}
        onRegenerate={noop}
        onEdit={noop}
      />,
    );
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByRole('link', { name: 'cat' })).toHaveAttribute('href', 'http://example.com/cat.png');
  });

  it('renders citations as a Sources panel', () => {
    const meta = {
      citations: [
        { file: 'manual.pdf', page: 3, score: 0.812, chunk_id: 'a1' },
        { file: 'notes.md', heading: 'Setup', score: 0.5, chunk_id: 'b2' },
      ],
    };
    render(
      <MessageView
        message={message('assistant', 'Per the manual…', { meta })}
        canEdit={false}
        canRegenerate={false}
        busy={false}
        onRegenerate={noop}
        onEdit={noop}
      />,
    );
    const sources = screen.getByText('Sources (2)').closest('details')!;
    expect(within(sources).getByText('manual.pdf')).toBeInTheDocument();
    expect(within(sources).getByText('page 3')).toBeInTheDocument();
    expect(within(sources).getByText('Setup')).toBeInTheDocument();
    expect(within(sources).getByText('0.81')).toBeInTheDocument();
  });

  it('keeps the notices saved with an answer above it', () => {
    const meta = { citations: [], notices: [{ code: 'reindex_required', message: 'Re-index Moon research.' }] };
    render(
      <MessageView
        message={message('assistant', 'I could not find it.', { meta })}
        canEdit={false}
        canRegenerate={false}
        busy={false}
        onRegenerate={noop}
        onEdit={noop}
      />,
    );
    expect(screen.getByTestId('answer-notices')).toHaveTextContent('Re-index Moon research.');
  });

  it('edit-and-resend sends the new text; Escape cancels', async () => {
    const onEdit = vi.fn();
    render(
      <MessageView
        message={message('user', 'old question')}
        canEdit
        canRegenerate={false}
        busy={false}
        onRegenerate={noop}
        onEdit={onEdit}
      />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Edit and resend' }));
    const box = screen.getByLabelText('Edited message');
    await userEvent.clear(box);
    await userEvent.type(box, 'new question{Escape}');
    expect(onEdit).not.toHaveBeenCalled();
    expect(screen.getByText('old question')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Edit and resend' }));
    await userEvent.clear(screen.getByLabelText('Edited message'));
    await userEvent.type(screen.getByLabelText('Edited message'), 'new question{Enter}');
    expect(onEdit).toHaveBeenCalledWith('new question');
  });
});
