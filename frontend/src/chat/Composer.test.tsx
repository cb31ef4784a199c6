import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Composer } from './Composer';
import { clearDraftIf, loadDraft, saveDraft } from './drafts';

function setup(props: Partial<React.ComponentProps<typeof Composer>> = {}) {
  const onSend = vi.fn();
  const onStop = vi.fn();
  render(<Composer conversationId="c1" busy={false} stopping={false} onSend={onSend} onStop={onStop} {...props} />);
  return { onSend, onStop, box: screen.getByLabelText('Message') as HTMLTextAreaElement };
}

describe('Composer', () => {
  it('Enter sends, Shift+Enter adds a line', async () => {
    const { onSend, box } = setup();
    await userEvent.type(box, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(box.value).toBe('line one\nline two');
    expect(onSend).not.toHaveBeenCalled();
    await userEvent.type(box, '{Enter}');
    expect(onSend).toHaveBeenCalledWith('line one\nline two');
    expect(box.value).toBe('');
  });

  it('does not send blank text, nor while an input method is composing', async () => {
    const { onSend, box } = setup();
    await userEvent.type(box, '   {Enter}');
    expect(onSend).not.toHaveBeenCalled();
    await userEvent.clear(box);
    await userEvent.type(box, 'にほん');
    fireEvent.keyDown(box, { key: 'Enter', isComposing: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('keeps the draft per conversation across a remount (a reload)', async () => {
    const { box } = setup();
    await userEvent.type(box, 'half a thought');
    expect(loadDraft('c1')).toBe('half a thought');
    expect(loadDraft('c2')).toBe('');
    cleanup();
    render(<Composer conversationId="c1" busy={false} stopping={false} onSend={vi.fn()} onStop={vi.fn()} />);
    expect(screen.getByLabelText('Message')).toHaveValue('half a thought');
  });

  it('keeps the stored draft after sending until the server saved it', async () => {
    const { box } = setup();
    await userEvent.type(box, 'sent text{Enter}');
    expect(loadDraft('c1')).toBe('sent text');
    clearDraftIf('c1', 'other text');
    expect(loadDraft('c1')).toBe('sent text');
    clearDraftIf('c1', 'sent text');
    expect(loadDraft('c1')).toBe('');
  });

  it('shows Stop while answering and puts back text from a failed send', () => {
    saveDraft('c1', '');
    const { onStop } = setup({ busy: true, restore: 'lost words' });
    fireEvent.click(screen.getByRole('button', { name: /stop/i }));
    expect(onStop).toHaveBeenCalled();
    expect(screen.getByLabelText('Message')).toHaveValue('lost words');
  });
});
