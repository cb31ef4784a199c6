import type { HearthApi } from '../../../electron/hearth-api';
import { BASE, FakeBackend, apiError, connectedApi, json, memoryStorage } from '../test/fakeBackend';
import { Api, ApiError, withQuery } from './client';
import { Connection } from './connection';

describe('Api', () => {
  it('sends the bearer token and JSON, and returns JSON', async () => {
    const backend = new FakeBackend().on('PATCH', /^\/api\/conversations\/c1$/, (call) =>
      json({ id: 'c1', ...(call.body as object) }),
    );
    const api = connectedApi(backend, 'secret');
    expect(await api.patch('/api/conversations/c1', { title: 'Hi' })).toEqual({ id: 'c1', title: 'Hi' });
    expect(backend.calls[0].headers).toMatchObject({
      Authorization: 'Bearer secret',
      'Content-Type': 'application/json',
    });
  });

  it('turns the error shape into an ApiError with code and message', async () => {
    const backend = new FakeBackend().on('POST', '/api/engine/load', () =>
      apiError(404, 'model_not_found', "Model 'x' is not installed."),
    );
    const api = connectedApi(backend);
    await expect(api.post('/api/engine/load', { model: 'x' })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      message: "Model 'x' is not installed.",
    });
  });

  it("reads /v1's OpenAI error shape too", async () => {
    const body = { error: { message: 'Batch b is completed.', type: 'invalid_request_error', param: null, code: 'x' } };
    const backend = new FakeBackend().on('POST', '/v1/batches/b/cancel', () => json(body, 409));
    await expect(connectedApi(backend).post('/v1/batches/b/cancel')).rejects.toMatchObject({
      status: 409,
      code: 'x',
      message: 'Batch b is completed.',
    });
  });

  it('reports an unreachable backend as offline', async () => {
    const api = connectedApi(new FakeBackend());
    const failing = new Api(api.connection, (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch);
    await expect(failing.get('/api/status')).rejects.toMatchObject({ code: 'offline', status: 0 });
  });

  it('under Electron, retries once with the new token after a 401', async () => {
    const tokens = ['old', 'new'];
    const shell: HearthApi = {
      getBackend: async () => ({ url: `${BASE}/`, token: tokens.length > 1 ? tokens.shift()! : tokens[0] }),
      restartBackend: async () => undefined,
      useCpuRuntime: async () => undefined,
      openLogs: async () => undefined,
      appVersion: async () => '1',
    };
    const backend = new FakeBackend().on('GET', '/api/status', (call) =>
      call.headers.Authorization === 'Bearer new' ? json({ ok: true }) : apiError(401, 'unauthorized', 'no'),
    );
    const connection = new Connection({
      shell,
      location: { hash: '', origin: BASE, pathname: '/', search: '' },
      history: { replaceState: () => undefined },
      storage: memoryStorage(),
      fetch: backend.fetch as typeof fetch,
      sleep: async () => undefined,
    });
    await connection.start();
    const api = new Api(connection, backend.fetch as typeof fetch);
    expect(await api.get('/api/status')).toEqual({ ok: true });
    expect(backend.calls.map((c) => c.headers.Authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('in web mode, a 401 sends the person to sign in', async () => {
    const backend = new FakeBackend().on('GET', '/api/status', () =>
      apiError(401, 'unauthorized', 'Missing or wrong bearer token.'),
    );
    const api = connectedApi(backend);
    await expect(api.get('/api/status')).rejects.toBeInstanceOf(ApiError);
    expect(api.connection.state.kind).toBe('signin');
  });

  it('streams SSE events as parsed JSON', async () => {
    const backend = new FakeBackend().on(
      'GET',
      '/events',
      () => new Response('event: progress\ndata: {"n":1}\n\nevent: done\ndata: {"n":2}\n\n', { status: 200 }),
    );
    const got = [];
    for await (const e of connectedApi(backend).events('GET', '/events')) got.push(e);
    expect(got).toEqual([
      { event: 'progress', data: { n: 1 } },
      { event: 'done', data: { n: 2 } },
    ]);
  });
});

describe('withQuery', () => {
  it('skips empty values and encodes the rest', () => {
    expect(withQuery('/api/conversations', { q: 'a b&c', limit: 5, x: undefined, y: null, z: '' })).toBe(
      '/api/conversations?q=a+b%26c&limit=5',
    );
    expect(withQuery('/p')).toBe('/p');
  });
});
