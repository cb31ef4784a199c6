import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { SUPPORTED_EXTENSIONS } from '../documents/words';
import { Icon } from '../ui/Icon';
import { loadDraft, saveDraft } from './drafts';

interface ComposerProps {
  conversationId: string | null;
  busy: boolean;
  stopping: boolean;
  disabled?: boolean;
  /** Text to put back after a send failed before the server saved it (only into an empty box). */
  restore?: string | null;
  onSend: (text: string) => void;
  onStop: () => void;
  /** Files picked with the paperclip; without it there is no paperclip. */
  onAttach?: (files: File[]) => void;
}

/** The message box: Enter sends, Shift+Enter adds a line; the draft survives reloads. */
export function Composer({
  conversationId,
  busy,
  stopping,
  disabled,
  restore,
  onSend,
  onStop,
  onAttach,
}: ComposerProps) {
  const [text, setText] = useState(() => loadDraft(conversationId));
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (restore && !text) {
      setText(restore);
      saveDraft(conversationId, restore);
    }
    // Only when a new failure hands text back, not on every keystroke.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [restore]);

  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  function update(value: string) {
    setText(value);
    saveDraft(conversationId, value);
  }

  function submit() {
    if (busy || disabled || !text.trim()) return;
    onSend(text);
    // The stored draft stays until the server has saved the message (see clearDraftIf).
    setText('');
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {onAttach && (
        <>
          <button
            type="button"
            className="btn btn-ghost btn-icon composer-attach"
            aria-label="Attach files"
            title="Attach files to this chat (or drop them here)"
            disabled={disabled}
            onClick={() => picker.current?.click()}
          >
            <Icon name="paperclip" size={18} />
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            accept={SUPPORTED_EXTENSIONS.join(',')}
            data-testid="attach-input"
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = ''; // the same file picked again is a new pick
              if (files.length) onAttach(files);
            }}
          />
        </>
      )}
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={area}
        className="composer-input"
        placeholder={
          disabled ? 'Install a chat model to start' : 'Message Hearth… (Enter to send, Shift+Enter for a new line)'
        }
        value={text}
        rows={1}
        disabled={disabled}
        // Opening a chat is for typing in it, as in every chat app.
        autoFocus
        onChange={(e) => update(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      {busy ? (
        <button
          type="button"
          className="btn btn-stop"
          onClick={onStop}
          disabled={stopping}
          aria-keyshortcuts="Escape"
          title="Stop (Esc)"
        >
          <Icon name="stop" size={16} /> {stopping ? 'Stopping…' : 'Stop'}
        </button>
      ) : (
        <button
          type="submit"
          className="btn btn-primary btn-send"
          disabled={disabled || !text.trim()}
          title="Send (Enter)"
        >
          <Icon name="send" size={16} /> Send
        </button>
      )}
    </form>
  );
}
