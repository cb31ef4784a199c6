import type { IngestEvent, IngestFileResult } from '../api/types';
import { ingestJob } from '../test/ingest';
import type { Task } from './tasks';
import { accepted, applyEvent, fileName, isFinished, jobTask, refusedTask, uploadTask, uploading } from './tasks';

const STORED = '/data/documents/lib1/notes.md';

const job = ingestJob;

function result(over: Partial<IngestFileResult> = {}): IngestFileResult {
  return {
    path: STORED,
    file: 'notes.md',
    status: 'indexed',
    reason_code: null,
    reason: null,
    chunks: 4,
    pages: 1,
    document_id: 'd1',
    ...over,
  };
}

function run(task: Task, events: IngestEvent[]): Task {
  return events.reduce(applyEvent, task);
}

describe('fileName', () => {
  it.each([
    ['/data/documents/lib/notes.md', 'notes.md'],
    ['C:\\Users\\me\\Hearth\\documents\\lib\\report.pdf', 'report.pdf'],
    ['plain.txt', 'plain.txt'],
  ])('%s -> %s', (path, name) => expect(fileName(path)).toBe(name));
});

describe('an upload task', () => {
  const start = uploadTask('t1', 'lib1', { name: 'notes.md', size: 2048 });

  it('waits, uploads with bytes, then follows its job to the indexed file', () => {
    expect(start.stage).toBe('pending');
    const sent = uploading(start, 1024, 2048);
    expect(sent).toMatchObject({ stage: 'uploading', uploaded: 1024, size: 2048 });
    const queued = accepted(sent, job());
    expect(queued).toMatchObject({ stage: 'queued', jobId: 'j1', uploaded: 2048 });
    const done = run(queued, [
      { event: 'queued', data: job() },
      { event: 'started', data: { id: 'j1' } },
      { event: 'progress', data: { files_done: 0, files_total: 1, pages_done: 0, embedded: 0, current: null } },
      { event: 'progress', data: { files_done: 0, files_total: 1, pages_done: 0, embedded: 0, current: STORED } },
      {
        event: 'progress',
        data: {
          files_done: 0,
          files_total: 1,
          pages_done: 0,
          embedded: 2,
          current: STORED,
          file_chunks_done: 2,
          file_chunks_total: 4,
        },
      },
    ]);
    expect(done).toMatchObject({ stage: 'running', current: 'notes.md', chunksDone: 2, chunksTotal: 4 });
    const finished = run(done, [
      { event: 'file', data: result() },
      { event: 'done', data: job({ status: 'done', files_total: 1, files_done: 1, results: [result()] }) },
    ]);
    expect(finished).toMatchObject({ stage: 'done', current: null, filesDone: 1 });
    expect(finished.results).toEqual([result()]);
    expect(isFinished(finished)).toBe(true);
  });

  it('keeps a bad file reason from the file event', () => {
    const bad = result({ file: 'scan.pdf', status: 'failed', reason: 'This is not a PDF file (no %PDF header).' });
    const task = run(accepted(start, job()), [{ event: 'file', data: bad }]);
    expect(task.results[0].reason).toBe('This is not a PDF file (no %PDF header).');
  });

  it('a failed job carries its message in words', () => {
    const error = { code: 'no_embedding_model', message: 'No embedding model is installed.' };
    const task = run(accepted(start, job()), [{ event: 'done', data: job({ status: 'failed', error }) }]);
    expect(task).toMatchObject({ stage: 'failed', error: 'No embedding model is installed.' });
  });
});

describe('a re-index task', () => {
  it('counts files and restarts chunk counts for each new file', () => {
    const task = run(jobTask('t2', job({ kind: 'reindex' })), [
      { event: 'started', data: { id: 'j1' } },
      {
        event: 'progress',
        data: {
          files_done: 0,
          files_total: 3,
          pages_done: 0,
          embedded: 5,
          current: '/d/a.md',
          file_chunks_done: 5,
          file_chunks_total: 5,
        },
      },
      { event: 'progress', data: { files_done: 1, files_total: 3, pages_done: 1, embedded: 5, current: '/d/b.md' } },
    ]);
    expect(task).toMatchObject({
      kind: 'reindex',
      name: null,
      filesDone: 1,
      filesTotal: 3,
      current: 'b.md',
      chunksDone: 0,
      chunksTotal: 0,
    });
  });

  it('a refused one is finished with its reason', () => {
    const task = refusedTask('t3', 'lib1', 'reindex', 'No embedding model is installed.');
    expect(task).toMatchObject({ stage: 'failed', error: 'No embedding model is installed.', kind: 'reindex' });
  });
});
