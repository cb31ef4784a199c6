import type { IngestJob } from '../api/types';
import { ingestJob } from '../test/ingest';
import type { UploadOptions } from '../api/upload';
import { Bus } from '../app/context';
import { FakeBackend, apiError, connectedApi, json, sseStream } from '../test/fakeBackend';
import { IngestStore } from './ingestStore';

const job = ingestJob;

/** A fake of the XHR upload edge: records each file, reports progress, answers a job. */
function fakeUpload(answer: (file: File, n: number) => Promise<IngestJob>) {
  const sent: { name: string; query: UploadOptions['query'] }[] = [];
  const upload = async (_api: unknown, _path: string, file: Blob, options: UploadOptions) => {
    const f = file as File;
    sent.push({ name: f.name, query: options.query });
    options.onProgress?.({ loaded: f.size, total: f.size });
    return answer(f, sent.length);
  };
  return { sent, upload };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('IngestStore', () => {
  it('uploads files one by one and follows each job to its result', async () => {
    const streams = [sseStream(), sseStream()];
    const fake = new FakeBackend().on('GET', /^\/api\/libraries\/lib1\/jobs\/(j\d)\/events$/, (_c, m) =>
      m[1] === 'j1' ? streams[0].response : streams[1].response,
    );
    const bus = new Bus();
    let changes = 0;
    bus.on('documents', () => changes++);
    const { sent, upload } = fakeUpload(async (_f, n) => job({ id: `j${n}` }));
    const store = new IngestStore(connectedApi(fake), bus, upload);

    await store.add('lib1', [new File(['# hi'], 'notes.md'), new File([''], 'empty.txt')]);
    expect(sent).toEqual([
      { name: 'notes.md', query: { library_id: 'lib1', filename: 'notes.md' } },
      { name: 'empty.txt', query: { library_id: 'lib1', filename: 'empty.txt' } },
    ]);
    expect(store.get().map((t) => t.stage)).toEqual(['queued', 'queued']);

    const good = { path: '/d/notes.md', file: 'notes.md', status: 'indexed' as const, chunks: 1, pages: 1 };
    const bad = { path: '/d/empty.txt', file: 'empty.txt', status: 'failed' as const, chunks: 0, pages: 0 };
    const extra = { reason_code: null, reason: null, document_id: 'd' };
    streams[0].push('started', { id: 'j1' });
    streams[0].push('file', { ...good, ...extra });
    streams[0].push('done', job({ status: 'done', files_total: 1, files_done: 1, results: [{ ...good, ...extra }] }));
    streams[0].end();
    const reason = { reason_code: 'empty_file', reason: 'The file is empty.', document_id: 'd2' };
    streams[1].push('file', { ...bad, ...reason });
    streams[1].push('done', job({ id: 'j2', status: 'done', results: [{ ...bad, ...reason }] }));
    streams[1].end();
    await flush();
    await flush();

    const [first, second] = store.get();
    expect(first).toMatchObject({ stage: 'done', name: 'notes.md' });
    expect(second.results[0].reason).toBe('The file is empty.');
    expect(changes).toBe(4); // a file and a done event per job
    store.clearFinished('lib1');
    expect(store.get()).toEqual([]);
  });

  it('says why an upload was refused, with the file name', async () => {
    const fake = new FakeBackend();
    const { upload } = fakeUpload(async () => {
      throw new Error('No embedding model is installed.');
    });
    const store = new IngestStore(connectedApi(fake), new Bus(), upload);
    await store.add('lib1', [new File(['x'], 'a.md')]);
    expect(store.get()[0]).toMatchObject({
      stage: 'failed',
      error: 'a.md was not added: No embedding model is installed.',
    });
  });

  it('cancels a running job on the backend, and a refused re-index becomes a failed task', async () => {
    const stream = sseStream();
    const fake = new FakeBackend()
      .on('POST', '/api/libraries/lib1/reindex', () => json(job({ kind: 'reindex' }), 202))
      .on('GET', '/api/libraries/lib1/jobs/j1/events', () => stream.response)
      .on('POST', '/api/libraries/lib1/jobs/j1/cancel', () => json(job({ kind: 'reindex', cancel_requested: true })))
      .on('POST', '/api/libraries/lib2/reindex', () =>
        apiError(409, 'no_embedding_model', 'No embedding model is installed.'),
      );
    const store = new IngestStore(connectedApi(fake), new Bus());
    await store.reindex('lib1');
    stream.push('started', { id: 'j1' });
    await flush();
    const key = store.get()[0].key;
    await store.cancel(key);
    expect(fake.callsTo('POST', '/api/libraries/lib1/jobs/j1/cancel')).toHaveLength(1);
    expect(store.get()[0].cancelRequested).toBe(true);
    stream.push('done', job({ kind: 'reindex', status: 'cancelled', cancel_requested: true }));
    stream.end();
    await flush();
    expect(store.get()[0].stage).toBe('cancelled');

    await store.reindex('lib2');
    expect(store.get()[1]).toMatchObject({ stage: 'failed', error: 'No embedding model is installed.' });
  });
});

describe('IngestStore.attach', () => {
  it("sends a chat's files to the conversation, and learns their library from the job", async () => {
    const stream = sseStream();
    const fake = new FakeBackend().on('GET', '/api/libraries/own1/jobs/j1/events', () => stream.response);
    const paths: string[] = [];
    const { sent, upload } = fakeUpload(async () => job({ library_id: 'own1' }));
    const store = new IngestStore(connectedApi(fake), new Bus(), (api, path, file, options) => {
      paths.push(path);
      return upload(api, path, file, options);
    });

    await store.attach('c1', [new File(['%PDF'], 'paper.pdf')]);
    expect(paths).toEqual(['/api/documents/attach']);
    expect(sent).toEqual([{ name: 'paper.pdf', query: { conversation_id: 'c1', filename: 'paper.pdf' } }]);
    expect(store.get()[0]).toMatchObject({ conversationId: 'c1', libraryId: 'own1', stage: 'queued' });
    stream.push('done', job({ library_id: 'own1', status: 'done' }));
    stream.end();
    await flush();
    const [task] = store.get();
    expect(task.stage).toBe('done');
    store.dismiss(task.key);
    expect(store.get()).toEqual([]);
  });
});
