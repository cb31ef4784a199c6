// Chat state for every open conversation, outside React: an answer keeps streaming while the
// person looks at another conversation or at Settings (closing its stream would stop it).

import { ApiError } from '../api/client';
import type { Api } from '../api/client';
import { chat, conversations } from '../api/endpoints';
import type { ChatEvent, Message, SamplingParams } from '../api/types';
import { emptyThread, threadReducer } from './thread';
import type { Retry, ThreadAction, ThreadState } from './thread';

export interface RunOptions {
  model?: string | null;
  params: SamplingParams;
}

type Listener = () => void;

export interface ChatStoreEvents {
  /** An answer finished (done): the monitor's speed history and the conversation list refresh. */
  onAnswer?: (message: Message) => void;
  /** The server saved a user message: its draft can go. */
  onUserSaved?: (conversationId: string, message: Message) => void;
  /** A conversation's title or order may have changed. */
  onConversationTouched?: (conversationId: string) => void;
}

// Conversations with an answer under way, kept per tab: after a reload only those are worth
// asking the backend to re-attach to (the usual answer would be a 404).
const ANSWERING_KEY = 'hearth.answering';

function answering(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(ANSWERING_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

function markAnswering(id: string, on: boolean): void {
  const ids = answering();
  if (on) ids.add(id);
  else ids.delete(id);
  try {
    sessionStorage.setItem(ANSWERING_KEY, JSON.stringify([...ids]));
  } catch {
    // only a hint for the next reload
  }
}

// Actions that come from loading, not from something this tab did to the conversation.
const LOAD_ACTIONS = new Set<ThreadAction['type']>(['loading', 'loaded', 'load-failed']);

function toError(error: unknown): { code: string; message: string } {
  if (error instanceof ApiError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'client_error', message: error.message };
  return { code: 'client_error', message: String(error) };
}

export class ChatStore {
  private threads = new Map<string, ThreadState>();
  private listeners = new Set<Listener>();
  private running = new Set<string>();
  /** Local changes per conversation, to tell a fetched list that is already out of date. */
  private changes = new Map<string, number>();
  private staleReload = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly events: ChatStoreEvents = {},
  ) {}

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  thread(id: string): ThreadState {
    return this.threads.get(id) ?? emptyThread;
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  private dispatch(id: string, action: ThreadAction): void {
    if (!LOAD_ACTIONS.has(action.type)) this.changes.set(id, (this.changes.get(id) ?? 0) + 1);
    this.threads.set(id, threadReducer(this.thread(id), action));
    for (const listener of this.listeners) listener();
  }

  /** Load the saved messages, then re-attach to an answer still being generated (a reload). */
  async open(id: string): Promise<void> {
    this.dispatch(id, { type: 'loading' });
    await this.reload(id);
    if (!this.running.has(id) && this.thread(id).status === 'ready' && answering().has(id)) {
      void this.reattach(id);
    }
  }

  /**
   * The saved messages. A list fetched while this tab changed the conversation (a send that
   * started meanwhile) may miss what the stream already showed, so it is not used: while an
   * answer runs, the reload happens again when it ends; otherwise it is fetched again now.
   */
  async reload(id: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = this.changes.get(id) ?? 0;
      let messages: Message[];
      try {
        messages = await conversations.messages(this.api, id);
      } catch (error) {
        this.dispatch(id, { type: 'load-failed', message: toError(error).message });
        return;
      }
      if ((this.changes.get(id) ?? 0) === before) {
        this.dispatch(id, { type: 'loaded', messages });
        return;
      }
      if (this.running.has(id)) {
        this.staleReload.add(id);
        return;
      }
    }
  }

  send(id: string, content: string, options: RunOptions): Promise<void> {
    this.dispatch(id, { type: 'send', content, conversationId: id });
    return this.drive(id, () => chat.send(this.api, id, content, options), { kind: 'send', content });
  }

  regenerate(id: string, options: RunOptions): Promise<void> {
    this.dispatch(id, { type: 'regenerate' });
    return this.drive(id, () => chat.regenerate(this.api, id, options), { kind: 'regenerate' }, true);
  }

  edit(id: string, messageId: number, content: string, options: RunOptions): Promise<void> {
    this.dispatch(id, { type: 'edit', messageId, content, conversationId: id });
    return this.drive(id, () => chat.edit(this.api, id, messageId, content, options), { kind: 'send', content }, true);
  }

  retry(id: string, retry: Retry, options: RunOptions): Promise<void> {
    this.dispatch(id, { type: 'dismiss-error' });
    return retry.kind === 'send' ? this.send(id, retry.content, options) : this.regenerate(id, options);
  }

  /** Show another alternative of a message; refused by the server while an answer runs. */
  async select(id: string, messageId: number): Promise<void> {
    if (this.thread(id).pending) return;
    try {
      this.dispatch(id, { type: 'selected', messages: await chat.select(this.api, id, messageId) });
    } catch (error) {
      this.dispatch(id, { type: 'failed', error: toError(error), retry: null, heading: 'Could not switch:' });
    }
  }

  dismissError(id: string): void {
    this.dispatch(id, { type: 'dismiss-error' });
  }

  /** Ask the backend to stop; the stream then ends with the partial answer, saved as stopped. */
  async stop(id: string): Promise<void> {
    if (!this.thread(id).pending) return;
    this.dispatch(id, { type: 'stopping' });
    try {
      await chat.stop(this.api, id);
    } catch (error) {
      this.dispatch(id, { type: 'failed', error: toError(error), retry: null });
    }
  }

  private async reattach(id: string): Promise<void> {
    if (this.running.has(id)) return;
    this.running.add(id);
    let attached = false;
    try {
      for await (const event of chat.follow(this.api, id)) {
        if (!attached) {
          attached = true;
          this.dispatch(id, { type: 'attach' });
        }
        this.apply(id, event);
      }
      if (attached) await this.settle(id);
    } catch (error) {
      // 404: nothing is being generated for this conversation, the usual case.
      if (!(error instanceof ApiError && error.status === 404)) {
        this.dispatch(id, { type: 'failed', error: toError(error), retry: null });
      }
    } finally {
      this.running.delete(id);
      markAnswering(id, false);
      for (const listener of this.listeners) listener();
    }
  }

  /**
   * `branched`: the run adds an alternative (regenerate, edit). What it streams does not say so
   * (the new message is "2/2" only in the list), so the list is fetched again at the end.
   */
  private async drive(
    id: string,
    open: () => AsyncGenerator<ChatEvent>,
    retry: Retry,
    branched = false,
  ): Promise<void> {
    this.running.add(id);
    markAnswering(id, true);
    let started = false;
    try {
      for await (const event of open()) {
        if (event.event === 'start') started = true;
        this.apply(id, event);
      }
      const cut = this.thread(id).pending !== null; // settle reloads a cut stream itself
      await this.settle(id);
      if (branched && !cut) await this.reload(id);
    } catch (error) {
      // Before "start" nothing was saved: Retry sends the same text again. After it, the
      // question is saved and Retry answers it again.
      this.dispatch(id, {
        type: 'failed',
        error: toError(error),
        retry: started ? { kind: 'regenerate' } : retry,
      });
      await this.reload(id);
    } finally {
      this.running.delete(id);
      markAnswering(id, false);
      if (this.staleReload.delete(id)) await this.reload(id);
      this.events.onConversationTouched?.(id);
      for (const listener of this.listeners) listener();
    }
  }

  private apply(id: string, event: ChatEvent): void {
    this.dispatch(id, { type: 'event', event });
    if (event.event === 'start' && event.data.user_message) {
      this.events.onUserSaved?.(id, event.data.user_message);
    } else if (event.event === 'done') {
      this.events.onAnswer?.(event.data.message);
    } else if (event.event === 'error') {
      // A partial answer may have been saved with the error: show it.
      void this.reload(id);
    }
  }

  /** The stream closed; if it ended without done or error, the connection was lost. */
  private async settle(id: string): Promise<void> {
    if (this.thread(id).pending) {
      this.dispatch(id, { type: 'ended' });
      await this.reload(id);
    }
  }
}
