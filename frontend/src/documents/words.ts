// Documents, libraries and jobs in plain words. Pure, so every sentence is tested.

import type { DocDocument, DocLibrary, IngestFileResult } from '../api/types';
import type { Task } from './tasks';
import { summary } from './tasks';

/** The backend's folder walk reads these (hearth/docs/extract.py SUPPORTED). */
export const SUPPORTED_EXTENSIONS = ['.txt', '.text', '.md', '.markdown', '.pdf', '.html', '.htm', '.docx'];
export const SUPPORTED_WORDS = 'Text, Markdown, PDF (with a text layer), HTML and Word (.docx)';

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function isSupported(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && SUPPORTED_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}

/**
 * Of a folder's files, those worth uploading: supported types, no hidden or Office lock files
 * (the same rule as the backend's own folder walk). The rest is named, not silently dropped.
 */
export function pickFolderFiles<T extends { name: string }>(files: T[]): { take: T[]; skipped: T[] } {
  const take: T[] = [];
  const skipped: T[] = [];
  for (const file of files) {
    const wanted = !file.name.startsWith('.') && !file.name.startsWith('~$') && isSupported(file.name);
    (wanted ? take : skipped).push(file);
  }
  return { take, skipped };
}

export function skippedLine(names: string[]): string {
  const shown = names.slice(0, 3).join(', ');
  const more = names.length > 3 ? ` and ${names.length - 3} more` : '';
  return `Skipped ${plural(names.length, 'file')} of other types (${shown}${more}). Hearth reads ${SUPPORTED_WORDS}.`;
}

export function libraryFacts(library: DocLibrary): string {
  if (library.documents === 0) return 'No documents yet';
  const parts = [plural(library.documents, 'document')];
  if (library.failed) parts.push(`${library.failed.toLocaleString()} not indexed`);
  if (library.pending) parts.push(`${library.pending.toLocaleString()} waiting`);
  parts.push(plural(library.chunks, 'chunk'));
  return parts.join(' · ');
}

export function documentStatus(doc: DocDocument): string {
  if (doc.status === 'indexed') return 'Indexed';
  if (doc.status === 'pending') return 'Waiting to be indexed';
  return 'Not indexed';
}

/** A stored document in one line, with the reason when it could not be read. */
export function documentLine(doc: DocDocument): string {
  if (doc.status === 'indexed') return `Indexed: ${plural(doc.chunks, 'chunk')}.`;
  if (doc.status === 'failed') return `Not indexed: ${doc.reason ?? 'the file could not be read.'}`;
  return documentStatus(doc);
}

export function resultLine(result: IngestFileResult): string {
  switch (result.status) {
    case 'indexed':
      return `Indexed: ${plural(result.chunks, 'chunk')}${result.pages > 1 ? `, ${plural(result.pages, 'page')}` : ''}.`;
    case 'unchanged':
      return 'Already indexed and unchanged.';
    case 'removed':
      return 'Gone from disk, so removed from the library.';
    case 'skipped':
    case 'failed':
      return `Not indexed: ${result.reason ?? 'the file could not be read.'}`;
  }
}

/** The heading of a task: the person's file name, or what the job does. */
export function taskTitle(task: Task): string {
  if (task.name) return task.name;
  return task.kind === 'reindex' ? 'Re-index' : 'Adding files';
}

/** Where the task stands now, in one sentence. */
export function taskLine(task: Task): string {
  switch (task.stage) {
    case 'pending':
      return 'Waiting to upload…';
    case 'uploading':
      return 'Uploading…';
    case 'queued':
      return task.cancelRequested ? 'Cancelling…' : 'Waiting for the job before it to finish…';
    case 'running': {
      if (task.cancelRequested) return 'Cancelling after the current step…';
      const now = task.current ? ` ${task.current}` : '';
      const chunks =
        task.chunksTotal > 0 ? `Embedding${now}: ${task.chunksDone} of ${plural(task.chunksTotal, 'chunk')}…` : null;
      if (task.filesTotal > 1) {
        return `${task.filesDone} of ${plural(task.filesTotal, 'file')} done. ${chunks ?? `Reading${now}…`}`;
      }
      return chunks ?? `Reading${now}…`;
    }
    case 'cancelled':
      return task.jobId ? 'Cancelled. Files finished before that are kept.' : 'Upload cancelled.';
    case 'failed':
      return task.error ?? 'It did not work.';
    case 'done':
      return doneLine(task);
  }
}

function doneLine(task: Task): string {
  if (task.kind === 'upload' && task.results.length === 1) return resultLine(task.results[0]);
  const counts = summary(task.results);
  const parts: string[] = [];
  if (counts.indexed) parts.push(`${counts.indexed.toLocaleString()} indexed`);
  if (counts.unchanged) parts.push(`${counts.unchanged.toLocaleString()} unchanged`);
  if (counts.failed + counts.skipped) parts.push(`${(counts.failed + counts.skipped).toLocaleString()} not indexed`);
  if (counts.removed) parts.push(`${counts.removed.toLocaleString()} removed`);
  const verb = task.kind === 'reindex' ? 'Re-indexed' : 'Done';
  return parts.length ? `${verb}: ${parts.join(', ')}.` : `${verb}: nothing to do.`;
}

/** The fraction of the work done, for a progress bar; null when not measurable yet. */
export function taskFraction(task: Task): { done: number; total: number } | null {
  if (task.stage === 'uploading') return task.size > 0 ? { done: task.uploaded, total: task.size } : null;
  if (task.stage !== 'running') return null;
  if (task.filesTotal > 1) {
    const within = task.chunksTotal > 0 ? task.chunksDone / task.chunksTotal : 0;
    return { done: task.filesDone + within, total: task.filesTotal };
  }
  return task.chunksTotal > 0 ? { done: task.chunksDone, total: task.chunksTotal } : null;
}
