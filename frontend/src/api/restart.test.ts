import type { HearthApi } from '../../../electron/hearth-api';
import { BASE, memoryStorage } from '../test/fakeBackend';
import { Connection } from './connection';
import { waitForRestart } from './restart';

function clock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

function webConnection() {
  const storage = memoryStorage();
  storage.setItem('hearth.token', 't');
  const connection = new Connection({
    shell: undefined,
    location: { hash: '', origin: BASE, pathname: '/', search: '' },
    history: { replaceState: () => undefined },
    storage,
    fetch: (() => Promise.reject(new Error('unused'))) as typeof fetch,
    sleep: async () => undefined,
  });
  return connection;
}

describe('waitForRestart', () => {
  it('waits for the backend to go down, then to answer /health again', async () => {
    const connection = webConnection();
    await connection.start();
    const answers = [true, false, false, true];
    const seen: string[] = [];
    const fetchImpl = (async (url: string) => {
      seen.push(url);
      const up = answers.length > 1 ? answers.shift()! : answers[0];
      if (!up) throw new TypeError('connection refused');
      return new Response('{}', { status: 200 });
    }) as unknown as typeof fetch;
    let downs = 0;
    const outcome = await waitForRestart(connection, { fetchImpl, ...clock(), onDown: () => downs++ });
    expect(outcome).toBe('back');
    expect(downs).toBe(1);
    expect(seen).toHaveLength(4);
    expect(seen[0]).toBe(`${BASE}/health`);
  });

  it('counts a healthy answer as back when the restart was too quick to see', async () => {
    const connection = webConnection();
    await connection.start();
    const fetchImpl = (async () => new Response('{}', { status: 200 })) as unknown as typeof fetch;
    expect(await waitForRestart(connection, { fetchImpl, downGraceMs: 5000, ...clock() })).toBe('back');
  });

  it('times out when it never comes back', async () => {
    const connection = webConnection();
    await connection.start();
    const fetchImpl = (async () => {
      throw new TypeError('refused');
    }) as unknown as typeof fetch;
    expect(await waitForRestart(connection, { fetchImpl, timeoutMs: 10_000, ...clock() })).toBe('timeout');
  });

  it('under Electron follows the backend to its new port', async () => {
    const answers: ({ url: string; token: string } | null)[] = [
      { url: 'http://127.0.0.1:5000/', token: 'a' },
      { url: 'http://127.0.0.1:5000/', token: 'a' },
      null,
      { url: 'http://127.0.0.1:6000/', token: 'b' },
    ];
    const shell: HearthApi = {
      getBackend: async () => (answers.length > 1 ? answers.shift()! : answers[0]),
      restartBackend: async () => undefined,
      useCpuRuntime: async () => undefined,
      openLogs: async () => undefined,
      appVersion: async () => '1',
    };
    const connection = new Connection({
      shell,
      location: { hash: '', origin: BASE, pathname: '/', search: '' },
      history: { replaceState: () => undefined },
      storage: memoryStorage(),
      fetch: (() => Promise.reject(new Error('unused'))) as typeof fetch,
      sleep: async () => undefined,
    });
    await connection.start();
    const fetchImpl = (async (url: string) => {
      if (url.startsWith('http://127.0.0.1:5000')) throw new TypeError('refused');
      return new Response('{}', { status: 200 });
    }) as unknown as typeof fetch;
    expect(await waitForRestart(connection, { fetchImpl, ...clock() })).toBe('back');
    expect(connection.backend).toEqual({ base: 'http://127.0.0.1:6000', token: 'b' });
  });
});
