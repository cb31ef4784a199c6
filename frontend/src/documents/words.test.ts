import type { DocDocument, DocLibrary } from '../api/types';
import { ingestJob } from '../test/ingest';
import { accepted, applyEvent, cancelled, failed, jobTask, uploadTask, uploading } from './tasks';
import type { Task } from './tasks';
import {
  documentLine,
  documentStatus,
  isSupported,
  libraryFacts,
  pickFolderFiles,
  resultLine,
  skippedLine,
  taskFraction,
  taskLine,
  taskTitle,
} from './words';

function library(over: Partial<DocLibrary> = {}): DocLibrary {
  return {
    id: 'lib1',
    name: 'Notes',
    conversation_id: null,
    embedding_model: null,
    created_at: '',
    updated_at: '',
    documents: 0,
    indexed: 0,
    failed: 0,
    pending: 0,
    chunks: 0,
    state: 'empty',
    state_message: null,
    active_job: null,
    ...over,
  };
}

const queuedJob = ingestJob();

describe('libraryFacts', () => {
  it.each([
    [library(), 'No documents yet'],
    [library({ documents: 1, indexed: 1, chunks: 1 }), '1 document · 1 chunk'],
    [library({ documents: 3, indexed: 1, failed: 2, chunks: 12 }), '3 documents · 2 not indexed · 12 chunks'],
    [library({ documents: 2, pending: 2 }), '2 documents · 2 waiting · 0 chunks'],
  ])('%#', (lib, words) => expect(libraryFacts(lib)).toBe(words));
});

describe('documentStatus', () => {
  it.each([
    ['indexed', 'Indexed'],
    ['failed', 'Not indexed'],
    ['pending', 'Waiting to be indexed'],
  ] as const)('%s', (status, words) => expect(documentStatus({ status } as DocDocument)).toBe(words));
});

describe('documentLine', () => {
  it.each([
    [{ status: 'indexed', chunks: 1 }, 'Indexed: 1 chunk.'],
    [{ status: 'indexed', chunks: 12 }, 'Indexed: 12 chunks.'],
    [
      { status: 'failed', reason: 'This is not a PDF file (no %PDF header).' },
      'Not indexed: This is not a PDF file (no %PDF header).',
    ],
    [{ status: 'failed', reason: null }, 'Not indexed: the file could not be read.'],
    [{ status: 'pending' }, 'Waiting to be indexed'],
  ] as const)('%o', (doc, words) => expect(documentLine(doc as unknown as DocDocument)).toBe(words));
});

describe('files from a folder', () => {
  it('takes supported types and names the rest', () => {
    const files = ['a.md', 'B.PDF', 'photo.jpg', '.hidden.md', '~$draft.docx', 'page.htm', 'README'].map((name) => ({
      name,
    }));
    const { take, skipped } = pickFolderFiles(files);
    expect(take.map((f) => f.name)).toEqual(['a.md', 'B.PDF', 'page.htm']);
    expect(skipped.map((f) => f.name)).toEqual(['photo.jpg', '.hidden.md', '~$draft.docx', 'README']);
    expect(isSupported('x.markdown')).toBe(true);
    expect(isSupported('.md')).toBe(false);
  });

  it('says what was skipped, shortened after three', () => {
    expect(skippedLine(['a.jpg'])).toMatch(/^Skipped 1 file of other types \(a\.jpg\)\. Hearth reads Text/);
    expect(skippedLine(['a', 'b', 'c', 'd', 'e'])).toMatch(/^Skipped 5 files of other types \(a, b, c and 2 more\)/);
  });
});

describe('resultLine', () => {
  const base = {
    path: '/x/a.md',
    file: 'a.md',
    reason_code: null,
    reason: null,
    chunks: 0,
    pages: 0,
    document_id: null,
  };
  it.each([
    [{ ...base, status: 'indexed' as const, chunks: 1, pages: 1 }, 'Indexed: 1 chunk.'],
    [{ ...base, status: 'indexed' as const, chunks: 9, pages: 3 }, 'Indexed: 9 chunks, 3 pages.'],
    [{ ...base, status: 'unchanged' as const }, 'Already indexed and unchanged.'],
    [{ ...base, status: 'failed' as const, reason: 'The file is empty.' }, 'Not indexed: The file is empty.'],
    [{ ...base, status: 'removed' as const }, 'Gone from disk, so removed from the library.'],
  ])('%#', (result, words) => expect(resultLine(result)).toBe(words));
});

describe('taskLine and taskFraction', () => {
  const start = uploadTask('t1', 'lib1', { name: 'notes.md', size: 100 });

  function running(over: Partial<Task>): Task {
    return { ...accepted(start, queuedJob), stage: 'running', ...over };
  }

  it('follows an upload from waiting to its result', () => {
    expect(taskTitle(start)).toBe('notes.md');
    expect(taskLine(start)).toBe('Waiting to upload…');
    expect(taskFraction(start)).toBeNull();
    const sending = uploading(start, 40, 100);
    expect(taskLine(sending)).toBe('Uploading…');
    expect(taskFraction(sending)).toEqual({ done: 40, total: 100 });
    expect(taskLine(accepted(sending, queuedJob))).toBe('Waiting for the job before it to finish…');
    expect(taskLine(running({ current: 'notes.md' }))).toBe('Reading notes.md…');
    const embedding = running({ current: 'notes.md', chunksDone: 3, chunksTotal: 8 });
    expect(taskLine(embedding)).toBe('Embedding notes.md: 3 of 8 chunks…');
    expect(taskFraction(embedding)).toEqual({ done: 3, total: 8 });
    const done = applyEvent(running({}), {
      event: 'done',
      data: {
        ...queuedJob,
        status: 'done',
        results: [
          {
            path: '/d/notes.md',
            file: 'notes.md',
            status: 'failed',
            reason_code: 'empty_file',
            reason: 'The file is empty.',
            chunks: 0,
            pages: 0,
            document_id: 'd1',
          },
        ],
      },
    });
    expect(taskLine(done)).toBe('Not indexed: The file is empty.');
  });

  it('says cancelled and failed in words', () => {
    expect(taskLine(cancelled(start))).toBe('Upload cancelled.');
    expect(taskLine(cancelled(accepted(start, queuedJob)))).toBe('Cancelled. Files finished before that are kept.');
    expect(taskLine(failed(start, 'notes.md was not added: The file is larger than 256 MiB.'))).toBe(
      'notes.md was not added: The file is larger than 256 MiB.',
    );
    expect(taskLine(running({ cancelRequested: true }))).toBe('Cancelling after the current step…');
  });

  it('counts files of a re-index', () => {
    const task = { ...jobTask('t2', { ...queuedJob, kind: 'reindex' }), stage: 'running' as const };
    const mid = { ...task, filesDone: 1, filesTotal: 4, current: 'b.md', chunksDone: 1, chunksTotal: 2 };
    expect(taskTitle(mid)).toBe('Re-index');
    expect(taskLine(mid)).toBe('1 of 4 files done. Embedding b.md: 1 of 2 chunks…');
    expect(taskFraction(mid)).toEqual({ done: 1.5, total: 4 });
    const results = ['indexed', 'indexed', 'unchanged', 'failed'].map((status, i) => ({
      path: `/d/${i}`,
      file: `${i}`,
      status: status as 'indexed',
      reason_code: null,
      reason: null,
      chunks: 1,
      pages: 1,
      document_id: null,
    }));
    expect(taskLine({ ...task, stage: 'done', results })).toBe('Re-indexed: 2 indexed, 1 unchanged, 1 not indexed.');
    expect(taskLine({ ...task, stage: 'done', results: [] })).toBe('Re-indexed: nothing to do.');
  });
});
