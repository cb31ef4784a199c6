import type { HearthApi } from '../../../electron/hearth-api';
import { BASE, FakeBackend, apiError, json, memoryStorage } from '../test/fakeBackend';
import { Connection, TOKEN_KEY, authCode } from './connection';
import type { ConnectionEnv } from './connection';

function webEnv(backend: FakeBackend, hash = '#/') {
  const replaced: string[] = [];
  const storage = memoryStorage();
  const env: ConnectionEnv = {
    shell: undefined,
    location: { hash, origin: BASE, pathname: '/', search: '' },
    history: { replaceState: (_s, _t, url) => void replaced.push(String(url)) },
    storage,
    fetch: backend.fetch as typeof fetch,
    sleep: async () => undefined,
  };
  return { env, replaced, storage };
}

describe('authCode', () => {
  it.each([
    ['#/auth/abc123', 'abc123'],
    ['#/auth/abc-_9/extra', 'abc-_9'],
    ['#/auth/', null],
    ['#/chat/x', null],
    ['', null],
  ])('%s -> %s', (hash, code) => expect(authCode(hash)).toBe(code));
});

describe('Connection in web mode', () => {
  it('trades the one-time code for the token, keeps it per tab and scrubs the address', async () => {
    const backend = new FakeBackend().on('POST', '/api/session', (call) =>
      (call.body as { code: string }).code === 'once'
        ? json({ token: 'the-token' })
        : apiError(401, 'bad_session_code', 'used'),
    );
    const { env, replaced, storage } = webEnv(backend, '#/auth/once');
    const state = await new Connection(env).start();
    expect(state).toEqual({ kind: 'ready', backend: { base: BASE, token: 'the-token' } });
    expect(storage.getItem(TOKEN_KEY)).toBe('the-token');
    expect(replaced).toEqual(['/#/']);
    // The code went in a POST body, never in a URL.
    expect(backend.calls.map((c) => c.path)).toEqual(['/api/session']);
    expect(backend.calls[0].headers.Authorization).toBeUndefined();
  });

  it('scrubs the address even when the code is refused, and says why', async () => {
    const backend = new FakeBackend().on('POST', '/api/session', () =>
      apiError(401, 'bad_session_code', 'This sign-in link was already used or has expired.'),
    );
    const { env, replaced } = webEnv(backend, '#/auth/spent');
    const state = await new Connection(env).start();
    expect(replaced).toEqual(['/#/']);
    expect(state).toEqual({ kind: 'signin', reason: 'This sign-in link was already used or has expired.' });
  });

  it('reuses a kept token, and asks to sign in again after a refresh', async () => {
    const { env, storage } = webEnv(new FakeBackend());
    storage.setItem(TOKEN_KEY, 'kept');
    const connection = new Connection(env);
    expect(await connection.start()).toEqual({ kind: 'ready', backend: { base: BASE, token: 'kept' } });
    const refreshed = await connection.refresh('expired');
    expect(refreshed).toEqual({ kind: 'signin', reason: 'expired' });
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('accepts a pasted token once the backend confirms it', async () => {
    const backend = new FakeBackend().on('GET', '/api/status', (call) =>
      call.headers.Authorization === 'Bearer pasted' ? json({ ok: true }) : apiError(401, 'unauthorized', 'no'),
    );
    const { env, storage } = webEnv(backend);
    const connection = new Connection(env);
    expect(await connection.useToken('wrong')).toEqual({
      kind: 'signin',
      reason: 'That is not the token of this launch of Hearth.',
    });
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
    expect(await connection.useToken('  pasted \n')).toEqual({
      kind: 'ready',
      backend: { base: BASE, token: 'pasted' },
    });
    expect(storage.getItem(TOKEN_KEY)).toBe('pasted');
  });
});

describe('Connection under Electron', () => {
  function shell(answers: ({ url: string; token: string } | null)[]): HearthApi {
    return {
      getBackend: async () => (answers.length > 1 ? answers.shift()! : answers[0]),
      restartBackend: async () => undefined,
      useCpuRuntime: async () => undefined,
      openLogs: async () => undefined,
      appVersion: async () => '1.0.0',
    };
  }

  it('waits for the shell to have a backend, then uses its URL and token', async () => {
    const { env } = webEnv(new FakeBackend());
    env.shell = shell([null, null, { url: 'http://127.0.0.1:5000/', token: 't1' }]);
    const state = await new Connection(env).start();
    expect(state).toEqual({ kind: 'ready', backend: { base: 'http://127.0.0.1:5000', token: 't1' } });
  });

  it('picks up a respawned backend on a new port with a new token', async () => {
    const { env } = webEnv(new FakeBackend());
    env.shell = shell([
      { url: 'http://127.0.0.1:5000/', token: 't1' },
      null,
      { url: 'http://127.0.0.1:6000/', token: 't2' },
    ]);
    const connection = new Connection(env);
    await connection.start();
    expect(await connection.reask()).toBeNull();
    expect(await connection.reask()).toEqual({ base: 'http://127.0.0.1:6000', token: 't2' });
    expect(connection.backend).toEqual({ base: 'http://127.0.0.1:6000', token: 't2' });
  });
});
