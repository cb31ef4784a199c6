import { message } from '../test/messages';
import { OPTIMISTIC_ID, emptyThread, lastUserMessage, threadReducer } from './thread';
import type { ThreadAction, ThreadState } from './thread';

const run = (actions: ThreadAction[], from: ThreadState = emptyThread) => actions.reduce(threadReducer, from);

describe('threadReducer', () => {
  it('shows the question at once, then the streamed answer, then the saved one', () => {
    const user = message('user', 'What is the capital of France?');
    const answer = message('assistant', 'Paris.');
    let state = run([
      { type: 'loaded', messages: [] },
      { type: 'send', content: user.content, conversationId: 'c1' },
    ]);
    expect(state.messages.map((m) => m.id)).toEqual([OPTIMISTIC_ID]);
    expect(state.pending?.phase).toBe('connecting');

    state = run(
      [
        { type: 'event', event: { event: 'start', data: { run_id: 'r1', conversation_id: 'c1', user_message: user } } },
        { type: 'event', event: { event: 'queued', data: { position: 2 } } },
      ],
      state,
    );
    expect(state.messages).toEqual([user]);
    expect(state.pending).toMatchObject({ runId: 'r1', phase: 'queued', queued: 2 });

    state = run(
      [
        { type: 'event', event: { event: 'delta', data: { content: 'Par' } } },
        { type: 'event', event: { event: 'delta', data: { content: 'is.' } } },
      ],
      state,
    );
    expect(state.pending).toMatchObject({ content: 'Paris.', phase: 'streaming', queued: null });

    state = threadReducer(state, { type: 'event', event: { event: 'done', data: { message: answer } } });
    expect(state.pending).toBeNull();
    expect(state.messages).toEqual([user, answer]);
  });

  it('keeps "stopping" while the last pieces arrive', () => {
    let state = run([{ type: 'send', content: 'hi', conversationId: 'c1' }, { type: 'stopping' }]);
    state = threadReducer(state, { type: 'event', event: { event: 'delta', data: { content: 'x' } } });
    expect(state.pending?.phase).toBe('stopping');
  });

  it('an error event keeps the question and offers Retry as regenerate', () => {
    const user = message('user', 'q');
    const state = run([
      { type: 'send', content: 'q', conversationId: 'c1' },
      { type: 'event', event: { event: 'start', data: { run_id: 'r', conversation_id: 'c1', user_message: user } } },
      { type: 'event', event: { event: 'error', data: { code: 'model_load_failed', message: 'out of memory' } } },
    ]);
    expect(state.messages).toEqual([user]);
    expect(state.error).toEqual({ code: 'model_load_failed', message: 'out of memory', retry: { kind: 'regenerate' } });
  });

  it('a failure before the server saved anything drops the shown question and keeps its text for Retry', () => {
    const state = run([
      { type: 'send', content: 'my long question', conversationId: 'c1' },
      {
        type: 'failed',
        error: { code: 'conflict', message: 'busy' },
        retry: { kind: 'send', content: 'my long question' },
      },
    ]);
    expect(state.messages).toEqual([]);
    expect(state.error?.retry).toEqual({ kind: 'send', content: 'my long question' });
  });

  it('regenerate drops the last answer; edit drops the edited message and all after it', () => {
    const [u1, a1, u2, a2] = [
      message('user', '1'),
      message('assistant', 'a'),
      message('user', '2'),
      message('assistant', 'b'),
    ];
    const loaded = run([{ type: 'loaded', messages: [u1, a1, u2, a2] }]);
    expect(threadReducer(loaded, { type: 'regenerate' }).messages).toEqual([u1, a1, u2]);
    const edited = threadReducer(loaded, { type: 'edit', messageId: u2.id, content: '2b', conversationId: 'c1' });
    expect(edited.messages.slice(0, 2)).toEqual([u1, a1]);
    expect(edited.messages[2]).toMatchObject({ id: OPTIMISTIC_ID, content: '2b' });
  });

  it('the shown list may skip ids (a regenerated answer): edit cuts at the message, not by id', () => {
    const u1 = message('user', '1', { id: 1 });
    const a1 = message('assistant', 'a', { id: 5 }); // regenerated: its id is above the next question's
    const u2 = message('user', '2', { id: 3 });
    const loaded = run([{ type: 'loaded', messages: [u1, a1, u2] }]);
    const edited = threadReducer(loaded, { type: 'edit', messageId: u2.id, content: '2b', conversationId: 'c1' });
    expect(edited.messages.map((m) => m.id)).toEqual([1, 5, OPTIMISTIC_ID]);
  });

  it('another alternative chosen replaces the shown list and clears a failure', () => {
    const failed = run([
      { type: 'loaded', messages: [message('user', 'q')] },
      { type: 'failed', error: { code: 'conflict', message: 'busy' }, retry: null, heading: 'Could not switch:' },
    ]);
    expect(failed.error).toMatchObject({ heading: 'Could not switch:' });
    const other = [message('user', 'q2', { sibling_ids: [1, 2], alternative: 2, alternatives: 2 })];
    const chosen = threadReducer(failed, { type: 'selected', messages: other });
    expect(chosen.messages).toEqual(other);
    expect(chosen.error).toBeNull();
  });

  it('a reload during an answer keeps the question that is not saved yet', () => {
    const state = run([
      { type: 'send', content: 'q', conversationId: 'c1' },
      { type: 'loaded', messages: [message('user', 'older')] },
    ]);
    expect(state.messages.map((m) => m.content)).toEqual(['older', 'q']);
  });

  it('re-attaching replays the run without duplicating the saved question', () => {
    const user = message('user', 'q');
    const state = run([
      { type: 'loaded', messages: [user] },
      { type: 'attach' },
      { type: 'event', event: { event: 'start', data: { run_id: 'r', conversation_id: 'c1', user_message: user } } },
      { type: 'event', event: { event: 'delta', data: { content: 'so far' } } },
    ]);
    expect(state.messages).toEqual([user]);
    expect(state.pending?.content).toBe('so far');
  });

  it('finds the last user message', () => {
    const msgs = [message('user', '1'), message('assistant', 'a'), message('user', '2'), message('assistant', 'b')];
    expect(lastUserMessage(msgs)?.content).toBe('2');
    expect(lastUserMessage([])).toBeUndefined();
  });
});

describe('notices', () => {
  it('keeps what the documents search could not do, above the answer being written', () => {
    const notice = { code: 'reindex_required', message: 'Re-index Moon research first.', library_id: 'l1' };
    const state = run([
      { type: 'loaded', messages: [] },
      { type: 'send', content: 'When are the tides?', conversationId: 'c1' },
      { type: 'event', event: { event: 'notice', data: notice } },
      { type: 'event', event: { event: 'delta', data: { content: 'Twice' } } },
    ]);
    expect(state.pending).toMatchObject({ content: 'Twice', notices: [notice] });
  });
});
