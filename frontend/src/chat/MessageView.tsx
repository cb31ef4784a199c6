import { useState } from 'react';
import type { Message } from '../api/types';
import { formatMs, plural } from '../ui/format';
import { Icon } from '../ui/Icon';
import { Alternatives } from './Alternatives';
import { noticesOf } from './documentWords';
import { CopyButton, Markdown } from './Markdown';
import { Notices } from './Notices';
import { Sources, citationsOf } from './Sources';
import { OPTIMISTIC_ID } from './thread';

const FINISH_NOTE: Record<string, string> = {
  stopped: 'Stopped',
  length: 'Cut off at the length limit',
  error: 'Interrupted by an error',
};

export function MessageStats({ message }: { message: Message }) {
  const parts: string[] = [];
  if (message.tokens_per_s !== null) parts.push(`${message.tokens_per_s.toFixed(1)} tok/s`);
  if (message.ttft_ms !== null) parts.push(`first token ${formatMs(message.ttft_ms)}`);
  if (message.completion_tokens) parts.push(plural(message.completion_tokens, 'token'));
  if (message.model) parts.push(message.model.replace(/\.gguf$/i, ''));
  const note = message.finish_reason ? FINISH_NOTE[message.finish_reason] : undefined;
  return (
    <div className="message-stats" data-testid="message-stats">
      {parts.join(' · ')}
      {note && <span className={`finish finish-${message.finish_reason}`}>{note}</span>}
    </div>
  );
}

interface MessageViewProps {
  message: Message;
  canRegenerate: boolean;
  canEdit: boolean;
  busy: boolean;
  onRegenerate: () => void;
  onEdit: (content: string) => void;
  /** Show another alternative of this message (its sibling_ids). */
  onSelect?: (messageId: number) => void;
}

export function MessageView({
  message,
  canRegenerate,
  canEdit,
  busy,
  onRegenerate,
  onEdit,
  onSelect,
}: MessageViewProps) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(message.content);
  const isUser = message.role === 'user';
  const saving = message.id === OPTIMISTIC_ID;

  if (editing) {
    return (
      <article className="message message-user editing" aria-label="Edit your message">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!text.trim()) return;
            setEditing(false);
            onEdit(text);
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            Edited message
          </label>
          <textarea
            id={`edit-${message.id}`}
            className="edit-area"
            value={text}
            autoFocus
            rows={Math.min(12, Math.max(3, text.split('\n').length))}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                setEditing(false);
                setText(message.content);
              } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
          />
          <div className="edit-actions">
            <button type="button" className="btn" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy || !text.trim()}>
              Save &amp; resend
            </button>
          </div>
        </form>
      </article>
    );
  }

  const citations = citationsOf(message.meta);
  return (
    <article
      className={`message message-${message.role}${saving ? ' saving' : ''}`}
      aria-label={isUser ? 'You said' : 'Hearth answered'}
      data-message-id={message.id}
    >
      {!isUser && <Notices notices={noticesOf(message.meta)} />}
      <div className="message-body">
        {isUser ? <p className="user-text">{message.content}</p> : <Markdown text={message.content} />}
      </div>
      {!isUser && citations.length > 0 && <Sources citations={citations} />}
      <div className="message-foot">
        {!isUser && <MessageStats message={message} />}
        {onSelect && <Alternatives message={message} busy={busy} onSelect={onSelect} />}
        <div className="message-actions">
          <CopyButton label="Copy message" text={() => message.content} />
          {isUser && canEdit && (
            <button
              type="button"
              className="icon-btn"
              aria-label="Edit and resend"
              title="Edit and resend"
              disabled={busy}
              onClick={() => {
                setText(message.content);
                setEditing(true);
              }}
            >
              <Icon name="edit" size={16} />
            </button>
          )}
          {!isUser && canRegenerate && (
            <button
              type="button"
              className="icon-btn"
              aria-label="Regenerate answer"
              title="Regenerate"
              disabled={busy}
              onClick={onRegenerate}
            >
              <Icon name="refresh" size={16} />
            </button>
          )}
        </div>
      </div>
    </article>
  );
}
