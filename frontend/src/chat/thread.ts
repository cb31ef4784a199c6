// One conversation's chat state as a pure reducer: saved messages, the answer being streamed, and
// the last failure with what "Retry" should do. The store (chatStore.ts) feeds it API events.

import type { ApiErrorBody, ChatEvent, ChatNotice, Message } from '../api/types';

export type Retry = { kind: 'send'; content: string } | { kind: 'regenerate' };

export interface InlineError extends ApiErrorBody {
  retry: Retry | null;
  /** What failed, when it was not an answer (e.g. switching alternatives). */
  heading?: string;
}

export interface PendingAnswer {
  runId: string | null;
  content: string;
  /** Position in the generation queue while waiting; null once generating. */
  queued: number | null;
  phase: 'connecting' | 'queued' | 'streaming' | 'stopping';
  /** What the documents search could not do for this answer (a library to re-index…). */
  notices: ChatNotice[];
}

export interface ThreadState {
  messages: Message[];
  status: 'idle' | 'loading' | 'ready' | 'failed';
  loadError: string | null;
  pending: PendingAnswer | null;
  error: InlineError | null;
}

export type ThreadAction =
  | { type: 'loading' }
  | { type: 'loaded'; messages: Message[] }
  | { type: 'selected'; messages: Message[] }
  | { type: 'load-failed'; message: string }
  | { type: 'send'; content: string; conversationId: string }
  | { type: 'regenerate' }
  | { type: 'edit'; messageId: number; content: string; conversationId: string }
  | { type: 'attach' }
  | { type: 'event'; event: ChatEvent }
  | { type: 'stopping' }
  | { type: 'failed'; error: ApiErrorBody; retry: Retry | null; heading?: string }
  | { type: 'ended' }
  | { type: 'dismiss-error' };

export const emptyThread: ThreadState = {
  messages: [],
  status: 'idle',
  loadError: null,
  pending: null,
  error: null,
};

/** Negative ids mark a user message shown before the server has saved it. */
export const OPTIMISTIC_ID = -1;

function optimistic(conversationId: string, content: string): Message {
  return {
    id: OPTIMISTIC_ID,
    conversation_id: conversationId,
    role: 'user',
    content,
    model: null,
    prompt_tokens: null,
    completion_tokens: null,
    ttft_ms: null,
    tokens_per_s: null,
    finish_reason: null,
    meta: null,
    created_at: new Date().toISOString(),
  };
}

const fresh = (): PendingAnswer => ({ runId: null, content: '', queued: null, phase: 'connecting', notices: [] });

function withoutOptimistic(messages: Message[]): Message[] {
  return messages.filter((m) => m.id !== OPTIMISTIC_ID);
}

function upsert(messages: Message[], message: Message): Message[] {
  const rest = messages.filter((m) => m.id !== message.id);
  return [...rest, message].sort((a, b) => a.id - b.id);
}

function applyEvent(state: ThreadState, event: ChatEvent): ThreadState {
  const pending = state.pending ?? fresh();
  switch (event.event) {
    case 'start': {
      const user = event.data.user_message;
      const messages = user ? upsert(withoutOptimistic(state.messages), user) : state.messages;
      return { ...state, messages, pending: { ...pending, runId: event.data.run_id } };
    }
    case 'queued':
      if (pending.phase === 'stopping') return { ...state, pending: { ...pending, queued: event.data.position } };
      return { ...state, pending: { ...pending, queued: event.data.position, phase: 'queued' } };
    case 'notice':
      return { ...state, pending: { ...pending, notices: [...pending.notices, event.data] } };
    case 'delta':
      return {
        ...state,
        pending: {
          ...pending,
          content: pending.content + event.data.content,
          queued: null,
          phase: pending.phase === 'stopping' ? 'stopping' : 'streaming',
        },
      };
    case 'done':
      return { ...state, messages: upsert(state.messages, event.data.message), pending: null };
    case 'error':
      // The user's message is saved (and a partial answer, if any): Retry answers it again.
      return {
        ...state,
        messages: withoutOptimistic(state.messages),
        pending: null,
        error: { code: event.data.code, message: event.data.message, retry: { kind: 'regenerate' } },
      };
  }
}

export function threadReducer(state: ThreadState, action: ThreadAction): ThreadState {
  switch (action.type) {
    case 'loading':
      return { ...state, status: state.status === 'ready' ? 'ready' : 'loading', loadError: null };
    case 'loaded': {
      // A stream may have delivered the newest messages already; keep whichever is newer.
      let messages = action.messages;
      const pendingUser = state.pending ? state.messages.find((m) => m.id === OPTIMISTIC_ID) : undefined;
      if (pendingUser) messages = [...messages, pendingUser];
      return { ...state, messages, status: 'ready', loadError: null };
    }
    case 'load-failed':
      return { ...state, status: 'failed', loadError: action.message };
    case 'selected':
      // Another alternative chosen: the server's new active path, with its alternatives.
      return { ...state, messages: action.messages, status: 'ready', loadError: null, error: null };
    case 'send':
      return {
        ...state,
        messages: [...state.messages, optimistic(action.conversationId, action.content)],
        pending: fresh(),
        error: null,
      };
    case 'regenerate': {
      const last = state.messages[state.messages.length - 1];
      const messages = last?.role === 'assistant' ? state.messages.slice(0, -1) : state.messages;
      return { ...state, messages, pending: fresh(), error: null };
    }
    case 'edit': {
      // The edited question's branch hides what followed it; the server keeps both branches.
      const at = state.messages.findIndex((m) => m.id === action.messageId);
      const kept = at < 0 ? state.messages : state.messages.slice(0, at);
      return {
        ...state,
        messages: [...kept, optimistic(action.conversationId, action.content)],
        pending: fresh(),
        error: null,
      };
    }
    case 'attach':
      return { ...state, pending: state.pending ?? fresh(), error: null };
    case 'event':
      return applyEvent(state, action.event);
    case 'stopping':
      return state.pending ? { ...state, pending: { ...state.pending, phase: 'stopping' } } : state;
    case 'failed':
      return {
        ...state,
        messages: withoutOptimistic(state.messages),
        pending: null,
        error: { ...action.error, retry: action.retry, heading: action.heading },
      };
    case 'ended':
      // The stream closed without done/error (connection lost): the store reloads the messages.
      return { ...state, pending: null, messages: withoutOptimistic(state.messages) };
    case 'dismiss-error':
      return { ...state, error: null };
  }
}

/** The last user message, for "edit" and for deciding whether regenerate makes sense. */
export function lastUserMessage(messages: Message[]): Message | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i];
  return undefined;
}
