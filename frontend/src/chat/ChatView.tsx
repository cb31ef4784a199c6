import { useCallback, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { conversations } from '../api/endpoints';
import type { Conversation } from '../api/types';
import { useApp, useBus } from '../app/context';
import { navigate } from '../app/router';
import { useModels } from '../models/useModels';
import type { Dropped } from '../documents/dropped';
import { EmbeddingNotice } from '../documents/EmbeddingNotice';
import { pickFolderFiles, skippedLine } from '../documents/words';
import { Icon } from '../ui/Icon';
import { AttachmentChips } from './AttachmentChips';
import { Composer } from './Composer';
import { clearDraft, loadDraft, saveDraft } from './drafts';
import { documentsLabel } from './documentWords';
import { LibrariesPanel } from './LibrariesPanel';
import { Markdown } from './Markdown';
import { MessageView } from './MessageView';
import { Notices } from './Notices';
import { ModelPicker } from './ModelPicker';
import { ParamsPanel } from './ParamsPanel';
import { loadSampling, saveSampling, toParams } from './params';
import type { Sampling } from './params';
import { SystemPromptPanel } from './SystemPromptPanel';
import type { PendingAnswer } from './thread';
import { lastUserMessage } from './thread';
import { useAttachments } from './useAttachments';
import { useChatLibraries } from './useChatLibraries';
import { useFileDrop } from './useFileDrop';

function PendingView({ pending }: { pending: PendingAnswer }) {
  let status = '';
  if (pending.phase === 'queued' && pending.queued !== null) {
    status = pending.queued <= 1 ? 'Next in line…' : `Waiting in line: position ${pending.queued}`;
  } else if (pending.phase === 'connecting') status = 'Thinking…';
  else if (pending.phase === 'stopping') status = 'Stopping…';
  else status = 'Writing… (Esc stops)';
  return (
    <article className="message message-assistant pending" aria-label="Hearth is answering" aria-busy="true">
      <Notices notices={pending.notices} />
      <div className="message-body">
        {pending.content ? <Markdown text={pending.content} /> : <span className="typing" aria-hidden="true" />}
      </div>
      <div className="message-foot">
        <div className="message-stats" role="status" data-testid="pending-status">
          {status}
        </div>
      </div>
    </article>
  );
}

type Panel = 'system' | 'params' | 'documents' | null;

export function ChatView({ id }: { id: string | null }) {
  const { api, chat, bus } = useApp();
  const models = useModels();
  const thread = useSyncExternalStore(chat.subscribe, () => chat.thread(id ?? ''));
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [notFound, setNotFound] = useState<string | null>(null);
  const [draftModel, setDraftModel] = useState<string | null>(null);
  const [draftSystem, setDraftSystem] = useState<string | null>(null);
  const [sampling, setSampling] = useState<Sampling>(loadSampling);
  const [panel, setPanel] = useState<Panel>(null);
  const [createError, setCreateError] = useState<{ message: string; text: string } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [announcement, setAnnouncement] = useState('');
  const wasAnswering = useRef(false);
  const libraries = useChatLibraries(id);
  const attachments = useAttachments(id);
  // Why dropped or picked files were not (all) taken: no embedding model, other types, a failure.
  const [attachNote, setAttachNote] = useState<'no-model' | string | null>(null);
  const drop = useFileDrop((dropped) => void attachFiles(dropped));
  // Created for a first message whose libraries could not be attached: Retry reuses it.
  const unattached = useRef<Conversation | null>(null);

  useEffect(() => {
    setNotFound(null);
    setCreateError(null);
    unattached.current = null;
    if (!id) {
      setConversation(null);
      return;
    }
    let live = true;
    conversations
      .get(api, id)
      .then((c) => live && setConversation(c))
      .catch((err: Error) => live && setNotFound(err.message));
    void chat.open(id);
    stick.current = true;
    return () => {
      live = false;
    };
  }, [api, chat, id]);

  const options = useCallback(
    () => ({ model: (id ? conversation?.model : draftModel) ?? null, params: toParams(sampling) }),
    [conversation, draftModel, id, sampling],
  );

  const refreshConversation = useCallback(() => {
    if (id) conversations.get(api, id).then(setConversation, () => undefined);
  }, [api, id]);
  useBus('conversations', refreshConversation);

  const busy = thread.pending !== null;
  const stopping = thread.pending?.phase === 'stopping';

  const stop = useCallback(() => {
    if (id) void chat.stop(id);
  }, [chat, id]);

  useEffect(() => {
    if (!busy) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('[role="dialog"]')) stop();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, stop]);

  // The message log is not live (every token would be read out); say once when an answer is done.
  useEffect(() => {
    const answering = thread.pending !== null;
    const last = thread.messages[thread.messages.length - 1];
    if (wasAnswering.current && !answering && last?.role === 'assistant') {
      setAnnouncement(`Hearth answered: ${last.content.slice(0, 400)}`);
    }
    wasAnswering.current = answering;
  }, [thread.pending, thread.messages]);

  // Follow the answer as it grows, unless the person scrolled up to read.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [thread.messages, thread.pending?.content, thread.error]);

  /** The new chat's conversation, made with its drafted model, prompt and libraries. */
  async function startConversation(): Promise<Conversation> {
    const created =
      unattached.current ??
      (await conversations.create(api, {
        model: draftModel,
        system_prompt: draftSystem || null,
      }));
    unattached.current = created;
    // Before the first question, so that it already searches them.
    await libraries.commit(created.id);
    unattached.current = null;
    setDraftModel(null);
    setDraftSystem(null);
    bus.emit('conversations');
    navigate({ name: 'chat', id: created.id });
    return created;
  }

  async function send(text: string) {
    setCreateError(null);
    if (id) {
      void chat.send(id, text, options());
      return;
    }
    const model = draftModel;
    let created: Conversation;
    try {
      // The new-chat draft stays until the server has saved the message (App's onUserSaved).
      created = await startConversation();
    } catch (err) {
      setCreateError({ message: (err as Error).message, text });
      return;
    }
    void chat.send(created.id, text, { model, params: toParams(sampling) });
  }

  /** Picked or dropped files, attached to this conversation only (a new chat is made first). */
  async function attachFiles({ files, fromFolder }: Dropped) {
    if (attachments.status && !attachments.status.embedding_model) {
      setAttachNote('no-model');
      return;
    }
    const { take, skipped } = fromFolder ? pickFolderFiles(files) : { take: files, skipped: [] };
    setAttachNote(skipped.length ? skippedLine(skipped.map((f) => f.name)) : null);
    if (take.length === 0) return;
    let conversationId = id;
    if (!conversationId) {
      const typed = loadDraft(null);
      try {
        conversationId = (await startConversation()).id;
      } catch (err) {
        setAttachNote(`The chat for these files could not be started: ${(err as Error).message}`);
        return;
      }
      // What was typed meanwhile follows the chat it belongs to now (the composer remounts).
      saveDraft(conversationId, typed);
      clearDraft(null);
    }
    attachments.attach(conversationId, take);
  }

  async function changeModel(model: string) {
    if (id && conversation) {
      setConversation(await conversations.update(api, id, { model }));
    } else {
      setDraftModel(model);
    }
  }

  async function saveSystem(prompt: string | null) {
    if (id && conversation) setConversation(await conversations.update(api, id, { system_prompt: prompt }));
    else setDraftSystem(prompt);
  }

  function updateSampling(next: Sampling) {
    setSampling(next);
    saveSampling(next);
  }

  const noModel = models.ready && models.chatModels.length === 0;
  const lastUser = lastUserMessage(thread.messages);
  const last = thread.messages[thread.messages.length - 1];
  const restore =
    (thread.error?.retry?.kind === 'send' ? thread.error.retry.content : null) ?? createError?.text ?? null;
  const systemPrompt = id ? (conversation?.system_prompt ?? null) : draftSystem;

  if (notFound) {
    return (
      <section className="chat-view empty-state" aria-label="Chat">
        <h1>Conversation not found</h1>
        <p>{notFound}</p>
        <button type="button" className="btn btn-primary" onClick={() => navigate({ name: 'chat', id: null })}>
          Start a new chat
        </button>
      </section>
    );
  }

  return (
    <section className="chat-view" aria-label="Chat" {...drop.handlers}>
      {drop.over && (
        <div className="chat-drop" data-testid="chat-drop" aria-hidden="true">
          <div className="chat-drop-box">
            <Icon name="paperclip" size={28} />
            <p>Drop files to add them to this chat</p>
            <p className="small">Only this conversation will search them.</p>
          </div>
        </div>
      )}
      <header className="chat-header">
        <h1 className="chat-title" title={conversation?.title ?? undefined}>
          {id ? (conversation?.title ?? 'New chat') : 'New chat'}
        </h1>
        <ModelPicker
          models={models}
          value={id ? (conversation?.model ?? null) : draftModel}
          onChange={changeModel}
          disabled={busy}
        />
        <button
          type="button"
          className={`btn btn-ghost docs-toggle${libraries.attached.length ? ' has-value' : ''}`}
          aria-expanded={panel === 'documents'}
          aria-controls="documents-panel"
          title={libraries.attached.map((l) => l.name).join(', ') || 'Search your documents in this chat'}
          data-testid="documents-toggle"
          onClick={() => setPanel(panel === 'documents' ? null : 'documents')}
        >
          <Icon name="documents" size={16} />
          <span className="docs-toggle-label">{documentsLabel(libraries.attached)}</span>
        </button>
        <button
          type="button"
          className={`btn btn-ghost${systemPrompt ? ' has-value' : ''}`}
          aria-expanded={panel === 'system'}
          aria-controls="system-panel"
          onClick={() => setPanel(panel === 'system' ? null : 'system')}
        >
          System prompt
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          aria-expanded={panel === 'params'}
          aria-controls="params-panel"
          onClick={() => setPanel(panel === 'params' ? null : 'params')}
        >
          <Icon name="sliders" size={16} /> Parameters
        </button>
      </header>
      {panel === 'system' && (
        <SystemPromptPanel value={systemPrompt} onSave={saveSystem} onClose={() => setPanel(null)} />
      )}
      {panel === 'documents' && <LibrariesPanel libraries={libraries} isNew={!id} onClose={() => setPanel(null)} />}
      {panel === 'params' && <ParamsPanel value={sampling} onChange={updateSampling} onClose={() => setPanel(null)} />}

      <div
        className="messages"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        <div className="messages-inner" role="log" aria-live="off" aria-label="Messages">
          {thread.messages.length === 0 && !thread.pending && thread.status !== 'loading' && (
            <div className="chat-empty">
              <h2>What can I help with?</h2>
              <p>Everything stays on this computer. Answers stream in as the model writes them.</p>
              {noModel && (
                <p>
                  No chat model is installed yet. <a href="#/models">Get one in Models</a>.
                </p>
              )}
            </div>
          )}
          {thread.status === 'failed' && (
            <div className="inline-error" role="alert">
              Could not load this conversation: {thread.loadError}
              <button type="button" className="btn btn-small" onClick={() => id && void chat.open(id)}>
                Retry
              </button>
            </div>
          )}
          {thread.messages.map((message) => (
            <MessageView
              key={message.id}
              message={message}
              busy={busy}
              canEdit={message.role === 'user' && message.id > 0}
              canRegenerate={message === last && message.role === 'assistant' && lastUser !== undefined}
              onRegenerate={() => id && void chat.regenerate(id, options())}
              onEdit={(content) => id && void chat.edit(id, message.id, content, options())}
              onSelect={(messageId) => id && void chat.select(id, messageId)}
            />
          ))}
          {thread.pending && <PendingView pending={thread.pending} />}
          {thread.error && (
            <div className="inline-error" role="alert">
              <span>
                <strong>{thread.error.heading ?? 'The answer failed:'}</strong> {thread.error.message}
              </span>
              <span className="inline-error-actions">
                {thread.error.retry && id && (
                  <button
                    type="button"
                    className="btn btn-small btn-primary"
                    onClick={() => thread.error?.retry && void chat.retry(id, thread.error.retry, options())}
                  >
                    Retry
                  </button>
                )}
                <button type="button" className="btn btn-small" onClick={() => id && chat.dismissError(id)}>
                  Dismiss
                </button>
              </span>
            </div>
          )}
          {createError && (
            <div className="inline-error" role="alert">
              <span>
                <strong>Could not start the chat:</strong> {createError.message}
              </span>
              <button type="button" className="btn btn-small btn-primary" onClick={() => void send(createError.text)}>
                Retry
              </button>
            </div>
          )}
        </div>
      </div>
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <div className="composer-wrap">
        {attachNote === 'no-model' && attachments.status && (
          <div className="chat-attach-note" role="region" aria-label="Attaching files">
            <EmbeddingNotice status={attachments.status} />
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setAttachNote(null)}>
              Close
            </button>
          </div>
        )}
        {attachNote && attachNote !== 'no-model' && (
          <p className="chat-attach-note inline-error" role="alert">
            {attachNote}
          </p>
        )}
        {attachments.error && (
          <p className="chat-attach-note inline-error" role="alert">
            {attachments.error}
          </p>
        )}
        <AttachmentChips
          tasks={attachments.tasks}
          stored={attachments.stored}
          onCancel={attachments.cancel}
          onRemove={(item) => void attachments.remove(item)}
        />
        <Composer
          key={id ?? 'new'}
          conversationId={id}
          busy={busy}
          stopping={stopping}
          disabled={noModel}
          restore={restore}
          onSend={(text) => void send(text)}
          onStop={stop}
          onAttach={(files) => void attachFiles({ files, fromFolder: false })}
        />
      </div>
    </section>
  );
}
