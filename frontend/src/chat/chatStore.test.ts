import { FakeBackend, apiError, connectedApi, json, sseResponse, sseStream } from '../test/fakeBackend';
import { message } from '../test/messages';
import { ChatStore } from './chatStore';

const options = { model: 'SmolLM2.gguf', params: { temperature: 0, max_tokens: 64 } };

async function settled(store: ChatStore, id: string) {
  for (let i = 0; i < 100 && (store.isRunning(id) || store.thread(id).pending); i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('ChatStore', () => {
  it('sends, streams and keeps the saved answer; tells who cares', async () => {
    const user = message('user', 'What is the capital of France?');
    const answer = message('assistant', 'Paris.');
    const stream = sseStream();
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json([]))
      .on('POST', '/api/conversations/c1/messages', () => stream.response);
    const saved: string[] = [];
    const answers: string[] = [];
    const store = new ChatStore(connectedApi(backend), {
      onUserSaved: (_id, m) => saved.push(m.content),
      onAnswer: (m) => answers.push(m.content),
    });
    await store.open('c1');
    const sending = store.send('c1', user.content, options);
    expect(store.thread('c1').messages[0].content).toBe(user.content);

    stream.push('start', { run_id: 'r', conversation_id: 'c1', user_message: user });
    stream.push('delta', { content: 'Par' });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.thread('c1').pending?.content).toBe('Par');
    stream.push('delta', { content: 'is.' });
    stream.push('done', { message: answer });
    stream.end();
    await sending;

    expect(store.thread('c1').messages).toEqual([user, answer]);
    expect(store.thread('c1').pending).toBeNull();
    expect(saved).toEqual([user.content]);
    expect(answers).toEqual(['Paris.']);
    const body = backend.callsTo('POST', '/api/conversations/c1/messages')[0].body;
    expect(body).toEqual({ content: user.content, model: 'SmolLM2.gguf', params: { temperature: 0, max_tokens: 64 } });
  });

  it('keeps the text for Retry when the send is refused before anything was saved', async () => {
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json([]))
      .on('POST', '/api/conversations/c1/messages', () =>
        apiError(409, 'conflict', 'This conversation is already answering.'),
      );
    const store = new ChatStore(connectedApi(backend));
    await store.send('c1', 'keep me', options);
    expect(store.thread('c1').error).toMatchObject({
      message: 'This conversation is already answering.',
      retry: { kind: 'send', content: 'keep me' },
    });
    expect(store.thread('c1').messages).toEqual([]);
  });

  it('Retry after a mid-answer error regenerates, and shows the partial answer the server kept', async () => {
    const user = message('user', 'q');
    const partial = message('assistant', 'half an ans', { finish_reason: 'error' });
    let saved = [user];
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json(saved))
      .on('POST', '/api/conversations/c1/messages', () => {
        saved = [user, partial];
        return sseResponse([
          ['start', { run_id: 'r', conversation_id: 'c1', user_message: user }],
          ['delta', { content: 'half an ans' }],
          ['error', { code: 'generation_failed', message: 'boom' }],
        ]);
      })
      .on('POST', '/api/conversations/c1/regenerate', () => {
        // The partial answer stays, as the other alternative; the list shows the new one.
        const whole = message('assistant', 'whole answer');
        saved = [user, whole];
        return sseResponse([
          ['start', { run_id: 'r2', conversation_id: 'c1' }],
          ['done', { message: whole }],
        ]);
      });
    const store = new ChatStore(connectedApi(backend));
    await store.send('c1', 'q', options);
    await settled(store, 'c1');
    await new Promise((r) => setTimeout(r, 10));
    const thread = store.thread('c1');
    expect(thread.error?.retry).toEqual({ kind: 'regenerate' });
    expect(thread.messages.map((m) => m.content)).toEqual(['q', 'half an ans']);
    await store.retry('c1', thread.error!.retry!, options);
    expect(store.thread('c1').messages.map((m) => m.content)).toEqual(['q', 'whole answer']);
    expect(store.thread('c1').error).toBeNull();
  });

  it('a regenerated answer shows as 2/2 from the saved list, and select shows the other one', async () => {
    const user = message('user', 'Which flour?');
    const old = message('assistant', 'Rye.');
    const fresh = message('assistant', 'Spelt.');
    const pair = { sibling_ids: [old.id, fresh.id], alternatives: 2 };
    let saved = [user, { ...old, sibling_ids: [old.id], alternative: 1, alternatives: 1 }];
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json(saved))
      .on('POST', '/api/conversations/c1/regenerate', () => {
        saved = [user, { ...fresh, ...pair, alternative: 2 }];
        return sseResponse([
          ['start', { run_id: 'r', conversation_id: 'c1' }],
          ['done', { message: fresh }],
        ]);
      })
      .on('POST', `/api/conversations/c1/messages/${old.id}/select`, () =>
        json([user, { ...old, ...pair, alternative: 1 }]),
      );
    const store = new ChatStore(connectedApi(backend));
    await store.open('c1');
    await store.regenerate('c1', options);
    expect(store.thread('c1').messages.at(-1)).toMatchObject({ content: 'Spelt.', alternative: 2, alternatives: 2 });

    await store.select('c1', old.id);
    expect(store.thread('c1').messages.at(-1)).toMatchObject({ content: 'Rye.', alternative: 1 });
    expect(backend.callsTo('POST', `/api/conversations/c1/messages/${old.id}/select`)).toHaveLength(1);
  });

  it('a refused switch says so, and keeps what is shown', async () => {
    const user = message('user', 'q');
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json([user]))
      .on('POST', /\/select$/, () => apiError(404, 'not_found', 'message 7 not found in conversation c1'));
    const store = new ChatStore(connectedApi(backend));
    await store.open('c1');
    await store.select('c1', 7);
    expect(store.thread('c1').messages).toEqual([user]);
    expect(store.thread('c1').error).toMatchObject({ heading: 'Could not switch:', retry: null });
  });

  it('stop asks the backend, and the stopped partial answer stays', async () => {
    const user = message('user', 'tell a story');
    const stopped = message('assistant', 'Once upon', { finish_reason: 'stopped' });
    const stream = sseStream();
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () => json([]))
      .on('POST', '/api/conversations/c1/messages', () => stream.response)
      .on('POST', '/api/conversations/c1/stop', () => {
        stream.push('done', { message: stopped });
        stream.end();
        return json({ stopped: true });
      });
    const store = new ChatStore(connectedApi(backend));
    const sending = store.send('c1', user.content, options);
    stream.push('start', { run_id: 'r', conversation_id: 'c1', user_message: user });
    stream.push('delta', { content: 'Once upon' });
    await new Promise((r) => setTimeout(r, 10));
    await store.stop('c1');
    await sending;
    expect(store.thread('c1').messages.at(-1)).toEqual(stopped);
    expect(backend.callsTo('POST', '/api/conversations/c1/stop')).toHaveLength(1);
  });

  it('a stream cut without done reloads what the server saved', async () => {
    const user = message('user', 'q');
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', () =>
        json([user, message('assistant', 'saved part', { finish_reason: 'stopped' })]),
      )
      .on('POST', '/api/conversations/c1/messages', () =>
        sseResponse([
          ['start', { run_id: 'r', conversation_id: 'c1', user_message: user }],
          ['delta', { content: 'saved' }],
        ]),
      );
    const store = new ChatStore(connectedApi(backend));
    await store.send('c1', 'q', options);
    expect(store.thread('c1').pending).toBeNull();
    expect(store.thread('c1').messages.map((m) => m.content)).toEqual(['q', 'saved part']);
  });

  it('a list fetched before a send started never hides the streamed messages', async () => {
    const user = message('user', 'What is the capital of France?');
    const answer = message('assistant', 'Paris.');
    let saved: ReturnType<typeof message>[] = [];
    let releaseFirst!: () => void;
    const firstFetch = new Promise<void>((resolve) => (releaseFirst = resolve));
    let fetches = 0;
    const stream = sseStream();
    const backend = new FakeBackend()
      .on('GET', '/api/conversations/c1/messages', async () => {
        const snapshot = [...saved];
        if (fetches++ === 0) await firstFetch; // the slow first load, from before the send
        return json(snapshot);
      })
      .on('POST', '/api/conversations/c1/messages', () => stream.response);
    const store = new ChatStore(connectedApi(backend));
    const opening = store.open('c1');
    await new Promise((r) => setTimeout(r, 0));
    const sending = store.send('c1', user.content, options);
    saved = [user];
    stream.push('start', { run_id: 'r', conversation_id: 'c1', user_message: user });
    await new Promise((r) => setTimeout(r, 10));
    releaseFirst();
    await opening;
    expect(store.thread('c1').messages).toEqual([user]);
    saved = [user, answer];
    stream.push('done', { message: answer });
    stream.end();
    await sending;
    expect(store.thread('c1').messages).toEqual([user, answer]);
    expect(fetches).toBe(2);
  });

  it('after a reload re-attaches only to a conversation that was answering', async () => {
    const user = message('user', 'q');
    const backend = new FakeBackend()
      .on('GET', /^\/api\/conversations\/c\d\/messages$/, () => json([user]))
      .on('GET', '/api/conversations/c1/stream', () =>
        sseResponse([
          ['start', { run_id: 'r', conversation_id: 'c1', user_message: user }],
          ['delta', { content: 'still going' }],
          ['done', { message: message('assistant', 'still going, done') }],
        ]),
      );
    sessionStorage.setItem('hearth.answering', JSON.stringify(['c1']));
    const store = new ChatStore(connectedApi(backend));
    await store.open('c1');
    await settled(store, 'c1');
    await store.open('c2');
    expect(store.thread('c1').messages.map((m) => m.content)).toEqual(['q', 'still going, done']);
    expect(backend.callsTo('GET', '/api/conversations/c1/stream')).toHaveLength(1);
    expect(backend.callsTo('GET', '/api/conversations/c2/stream')).toHaveLength(0);
    expect(JSON.parse(sessionStorage.getItem('hearth.answering')!)).toEqual([]);
  });
});
