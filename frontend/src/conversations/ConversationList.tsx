import { useCallback, useEffect, useRef, useState } from 'react';
import { conversations } from '../api/endpoints';
import type { Conversation, SnippetPart } from '../api/types';
import { useApp, useBus } from '../app/context';
import { navigate } from '../app/router';
import { formatWhen } from '../ui/format';
import { Icon } from '../ui/Icon';
import { useToasts } from '../ui/Toasts';
import { groupByDate } from './dateGroups';
import { PendingDeletes } from './pendingDeletes';

export const UNDO_MS = 6000;

export function conversationTitle(c: Pick<Conversation, 'title'>): string {
  return c.title?.trim() || 'New chat';
}

interface Props {
  activeId: string | null;
  /** The clock the date headings are read against; tests fix it. */
  now?: () => Date;
}

/** A search result's matching piece of a message, the matched words marked. */
function Snippet({ parts }: { parts: SnippetPart[] }) {
  return (
    <span className="conv-snippet" data-testid="conv-snippet">
      {parts.map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
    </span>
  );
}

/** The sidebar's conversations: search, new, rename, delete with undo; arrow keys move. */
export function ConversationList({ activeId, now = () => new Date() }: Props) {
  const { api, bus } = useApp();
  const toasts = useToasts();
  const [items, setItems] = useState<Conversation[]>([]);
  const [total, setTotal] = useState(0);
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const list = useRef<HTMLUListElement>(null);
  const deletes = useRef<PendingDeletes | null>(null);
  deletes.current ??= new PendingDeletes(UNDO_MS);

  const load = useCallback(async () => {
    try {
      const page = await conversations.list(api, query.trim() || undefined);
      setItems(page.items);
      setTotal(page.total);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [api, query]);

  useEffect(() => {
    const timer = setTimeout(() => void load(), query ? 250 : 0);
    return () => clearTimeout(timer);
  }, [load, query]);
  useBus('conversations', load);
  useEffect(() => () => deletes.current?.abandonAll(), []);

  function remove(c: Conversation) {
    setHidden((h) => new Set(h).add(c.id));
    const wasOpen = c.id === activeId;
    if (wasOpen) navigate({ name: 'chat', id: null });
    const restore = () =>
      setHidden((h) => {
        const next = new Set(h);
        next.delete(c.id);
        return next;
      });
    deletes.current?.schedule(c.id, async () => {
      try {
        await conversations.remove(api, c.id);
        await load();
      } catch (err) {
        restore();
        toasts.show(`Could not delete: ${(err as Error).message}`, { tone: 'error' });
      }
    });
    toasts.show(`Deleted “${conversationTitle(c)}”`, {
      timeoutMs: UNDO_MS,
      action: {
        label: 'Undo',
        run: () => {
          if (!deletes.current?.cancel(c.id)) return;
          restore();
          // Undo puts things back as they were: the conversation open again, not "New chat".
          if (wasOpen) navigate({ name: 'chat', id: c.id });
        },
      },
    });
  }

  async function rename(c: Conversation, title: string) {
    setRenaming(null);
    const clean = title.trim();
    if (!clean || clean === c.title) return;
    try {
      const updated = await conversations.update(api, c.id, { title: clean });
      setItems((all) => all.map((x) => (x.id === c.id ? updated : x)));
      bus.emit('conversations'); // the open chat's header shows the new title at once
    } catch (err) {
      toasts.show(`Could not rename: ${(err as Error).message}`, { tone: 'error' });
    }
  }

  function onListKey(e: React.KeyboardEvent) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = Array.from(list.current?.querySelectorAll<HTMLElement>('.conv-link') ?? []);
    const at = links.indexOf(document.activeElement as HTMLElement);
    if (at < 0) return;
    e.preventDefault();
    links[Math.max(0, Math.min(links.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))]?.focus();
  }

  const visible = items.filter((c) => !hidden.has(c.id));
  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="btn btn-primary new-chat" onClick={() => navigate({ name: 'chat', id: null })}>
        <Icon name="plus" size={16} /> New chat
      </button>
      <div className="search">
        <Icon name="search" size={16} />
        <label htmlFor="conv-search" className="visually-hidden">
          Search conversations
        </label>
        <input
          id="conv-search"
          type="search"
          placeholder="Search conversations"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {error && (
        <p className="side-note" role="alert">
          {error}
        </p>
      )}
      {visible.length === 0 && !error && (
        <p className="side-note">{query ? 'No conversation matches.' : 'No conversations yet.'}</p>
      )}
      <ul className="conv-list" ref={list} onKeyDown={onListKey}>
        {groupByDate(visible, (c) => c.updated_at, now()).map((group) => (
          <li key={group.key} className="conv-group">
            <h3 className="conv-group-label" id={`conv-group-${group.key}`}>
              {group.label}
            </h3>
            <ul aria-labelledby={`conv-group-${group.key}`}>
              {group.items.map((c) => (
                <li key={c.id} className={`conv-item${c.id === activeId ? ' active' : ''}`}>
                  {renaming === c.id ? (
                    <RenameBox
                      conversation={c}
                      onDone={(title) => void rename(c, title)}
                      onCancel={() => setRenaming(null)}
                    />
                  ) : (
                    <>
                      <a
                        className="conv-link"
                        href={`#/chat/${encodeURIComponent(c.id)}`}
                        aria-current={c.id === activeId ? 'page' : undefined}
                        onKeyDown={(e) => {
                          if (e.key === 'F2') {
                            e.preventDefault();
                            setRenaming(c.id);
                          } else if (e.key === 'Delete') {
                            e.preventDefault();
                            remove(c);
                          }
                        }}
                      >
                        <span className="conv-title">{conversationTitle(c)}</span>
                        {c.snippet && c.snippet.length > 0 && <Snippet parts={c.snippet} />}
                        <span className="conv-when">{formatWhen(c.updated_at)}</span>
                      </a>
                      <span className="conv-actions">
                        <button
                          type="button"
                          className="icon-btn"
                          aria-label={`Rename “${conversationTitle(c)}”`}
                          title="Rename (F2)"
                          onClick={() => setRenaming(c.id)}
                        >
                          <Icon name="edit" size={15} />
                        </button>
                        <button
                          type="button"
                          className="icon-btn"
                          aria-label={`Delete “${conversationTitle(c)}”`}
                          title="Delete (Del)"
                          onClick={() => remove(c)}
                        >
                          <Icon name="trash" size={15} />
                        </button>
                      </span>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      {total > items.length && (
        <p className="side-note">
          Showing the newest {items.length} of {total}.
        </p>
      )}
    </nav>
  );
}

function RenameBox({
  conversation,
  onDone,
  onCancel,
}: {
  conversation: Conversation;
  onDone: (title: string) => void;
  onCancel: () => void;
}) {
  const [title, setTitle] = useState(conversationTitle(conversation));
  // Enter, Escape and blur can all end an edit; only the first one counts.
  const ended = useRef(false);
  const finish = (save: boolean) => {
    if (ended.current) return;
    ended.current = true;
    if (save) onDone(title);
    else onCancel();
  };
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        finish(true);
      }}
    >
      <label htmlFor={`rename-${conversation.id}`} className="visually-hidden">
        New title
      </label>
      <input
        id={`rename-${conversation.id}`}
        value={title}
        maxLength={200}
        autoFocus
        onFocus={(e) => e.currentTarget.select()}
        onChange={(e) => setTitle(e.target.value)}
        onBlur={() => finish(true)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            finish(false);
          }
        }}
      />
    </form>
  );
}
