import { FakeBackend, apiError, connectedApi, json, memoryStorage } from '../test/fakeBackend';
import { NONE, UiPrefsStore, reconcile } from './uiPrefs';
import type { UiChoices } from './uiPrefs';

const doc = (ui: Partial<UiChoices>) => ({
  preferences: { n_threads: null, n_ctx: null, n_gpu_layers: null, default_model: null, ...NONE, ...ui },
  effective: {},
  bounds: {},
  problem: null,
});

describe('reconcile', () => {
  it.each([
    ['the backend wins over this browser', { theme: 'dark' }, { theme: 'light' }, { theme: 'dark' }, {}],
    [
      'a choice only this browser has is used and sent up',
      {},
      { onboarded: true },
      { onboarded: true },
      { onboarded: true },
    ],
    ['nothing anywhere stays unset', {}, {}, {}, {}],
    ['an explicit "system" theme on the backend wins', { theme: 'system' }, { theme: 'dark' }, { theme: 'system' }, {}],
  ] as const)('%s', (_why, server, local, choices, upload) => {
    const result = reconcile({ ...NONE, ...server }, { ...NONE, ...local });
    expect(result.choices).toEqual({ ...NONE, ...choices });
    expect(result.upload).toEqual(upload);
  });
});

describe('UiPrefsStore', () => {
  it('a new origin (empty localStorage) gets the choices from the backend and caches them', async () => {
    const backend = new FakeBackend().on('GET', '/api/preferences', () =>
      json(doc({ theme: 'dark', onboarded: true, sampling: { temperature: 0.2 } })),
    );
    const storage = memoryStorage();
    const store = new UiPrefsStore(() => storage, 0);
    expect(store.get()).toEqual(NONE);
    expect(await store.load(connectedApi(backend))).toBe('backend');
    expect(store.get()).toMatchObject({ theme: 'dark', onboarded: true, sampling: { temperature: 0.2 } });
    // theme-boot.js reads the bare string before any script runs.
    expect(storage.getItem('hearth.theme')).toBe('dark');
    expect(storage.getItem('hearth.onboarded')).toBe('true');
    expect(backend.callsTo('PUT', '/api/preferences')).toEqual([]);
  });

  it('an install from before keeps its local choices and sends them to the backend', async () => {
    const backend = new FakeBackend()
      .on('GET', '/api/preferences', () => json(doc({})))
      .on('PUT', '/api/preferences', () => json(doc({})));
    const storage = memoryStorage();
    storage.setItem('hearth.onboarded', 'true');
    storage.setItem('hearth.theme', 'light');
    const store = new UiPrefsStore(() => storage, 0);
    await store.load(connectedApi(backend));
    await vi.waitFor(() => expect(backend.callsTo('PUT', '/api/preferences')).toHaveLength(1));
    expect(backend.callsTo('PUT', '/api/preferences')[0]?.body).toEqual({ onboarded: true, theme: 'light' });
  });

  it('starts from the local copy when the backend does not answer in time', async () => {
    const backend = new FakeBackend().on('GET', '/api/preferences', () => new Promise<Response>(() => undefined));
    const storage = memoryStorage();
    storage.setItem('hearth.theme', 'dark');
    const store = new UiPrefsStore(() => storage, 0);
    expect(await store.load(connectedApi(backend), 20)).toBe('cache');
    expect(store.get().theme).toBe('dark');
  });

  it('coalesces a burst of changes into one PUT and sends a failed one again with the next', async () => {
    let up = false;
    const backend = new FakeBackend()
      .on('GET', '/api/preferences', () => json(doc({})))
      .on('PUT', '/api/preferences', () => (up ? json(doc({})) : apiError(503, 'down', 'restarting')));
    const storage = memoryStorage();
    const store = new UiPrefsStore(() => storage, 5);
    await store.load(connectedApi(backend));
    store.set({ sampling: { temperature: 0.5 } });
    store.set({ sampling: { temperature: 0.6 } });
    expect(store.get().sampling).toEqual({ temperature: 0.6 }); // at once, before the backend
    await vi.waitFor(() => expect(backend.callsTo('PUT', '/api/preferences')).toHaveLength(1));
    up = true;
    store.set({ theme: 'dark' });
    await vi.waitFor(() => expect(backend.callsTo('PUT', '/api/preferences')).toHaveLength(2));
    expect(backend.callsTo('PUT', '/api/preferences')[1]?.body).toEqual({
      sampling: { temperature: 0.6 },
      theme: 'dark',
    });
  });

  it('keeps working from memory when the storage refuses writes', () => {
    const refusing = {
      getItem: () => null,
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => undefined,
    };
    const store = new UiPrefsStore(() => refusing, 1000);
    store.set({ onboarded: true });
    expect(store.get().onboarded).toBe(true);
  });
});
