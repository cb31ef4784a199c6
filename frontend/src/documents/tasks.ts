// What the page knows about each upload, re-index or resumed job, as plain data. Pure: the store
// feeds it upload progress and the job's Server-Sent Events, the view turns it into words.

import type { IngestEvent, IngestFileResult, IngestJob } from '../api/types';

export type TaskStage = 'pending' | 'uploading' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export interface Task {
  key: string;
  /** Empty for a chat's first file until the backend has made that chat's own library. */
  libraryId: string;
  /** Set for a file attached in a chat: it goes to that conversation's own library. */
  conversationId: string | null;
  kind: 'upload' | 'ingest' | 'reindex';
  /** The person's own file name for an upload; null for a job over many files. */
  name: string | null;
  stage: TaskStage;
  size: number;
  uploaded: number;
  jobId: string | null;
  filesDone: number;
  filesTotal: number;
  /** File name (never the stored path) being read or embedded now. */
  current: string | null;
  chunksDone: number;
  chunksTotal: number;
  results: IngestFileResult[];
  error: string | null;
  cancelRequested: boolean;
}

const FINISHED: ReadonlySet<TaskStage> = new Set(['done', 'cancelled', 'failed']);

export function isFinished(task: Task): boolean {
  return FINISHED.has(task.stage);
}

/** The last part of a path, whichever separator the backend's OS uses. */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export function uploadTask(
  key: string,
  libraryId: string,
  file: { name: string; size: number },
  conversationId: string | null = null,
): Task {
  return {
    key,
    libraryId,
    conversationId,
    kind: 'upload',
    name: file.name,
    stage: 'pending',
    size: file.size,
    uploaded: 0,
    jobId: null,
    filesDone: 0,
    filesTotal: 1,
    current: null,
    chunksDone: 0,
    chunksTotal: 0,
    results: [],
    error: null,
    cancelRequested: false,
  };
}

/** A task for a job the backend already has (a re-index, or one found running on return). */
export function jobTask(key: string, job: IngestJob, conversationId: string | null = null): Task {
  const base = uploadTask(key, job.library_id, { name: '', size: 0 }, conversationId);
  return fromJob({ ...base, kind: job.kind, name: null, filesTotal: 0 }, job);
}

/** A job the backend refused to start (no embedding model, say): its reason, as a task. */
export function refusedTask(key: string, libraryId: string, kind: Task['kind'], message: string): Task {
  const base = uploadTask(key, libraryId, { name: '', size: 0 });
  return failed({ ...base, kind, name: null, filesTotal: 0 }, message);
}

export function uploading(task: Task, loaded: number, total: number): Task {
  return { ...task, stage: 'uploading', uploaded: loaded, size: total || task.size };
}

/** The upload was stored; the backend answered with the job that indexes it. */
export function accepted(task: Task, job: IngestJob): Task {
  // A chat's file learns here which library the backend put it in.
  return fromJob({ ...task, libraryId: job.library_id, uploaded: task.size }, job);
}

export function failed(task: Task, message: string): Task {
  return { ...task, stage: 'failed', error: message };
}

export function cancelled(task: Task): Task {
  return { ...task, stage: 'cancelled', cancelRequested: true };
}

function fromJob(task: Task, job: IngestJob): Task {
  return {
    ...task,
    jobId: job.id,
    stage: job.status,
    filesDone: job.files_done,
    filesTotal: job.files_total || task.filesTotal,
    current: job.current ? fileName(job.current) : task.current,
    results: job.results ?? task.results,
    error: job.status === 'failed' ? (job.error?.message ?? 'The job failed.') : task.error,
    cancelRequested: job.cancel_requested || task.cancelRequested,
  };
}

/** One event of the job's stream applied to the task. */
export function applyEvent(task: Task, message: IngestEvent): Task {
  switch (message.event) {
    case 'queued':
      return fromJob(task, message.data);
    case 'started':
      return { ...task, stage: 'running' };
    case 'progress': {
      const p = message.data;
      const current = p.current ? fileName(p.current) : null;
      // Chunk counts belong to the file being embedded: a new file starts them again.
      const sameFile = current !== null && current === task.current;
      return {
        ...task,
        stage: task.stage === 'queued' ? 'running' : task.stage,
        filesDone: p.files_done,
        filesTotal: p.files_total || task.filesTotal,
        current: current ?? task.current,
        chunksDone: p.file_chunks_done ?? (sameFile ? task.chunksDone : 0),
        chunksTotal: p.file_chunks_total ?? (sameFile ? task.chunksTotal : 0),
      };
    }
    case 'file':
      return { ...task, results: [...task.results.filter((r) => r.path !== message.data.path), message.data] };
    case 'done':
      return { ...fromJob(task, message.data), current: null };
    default:
      return task;
  }
}

export function summary(results: IngestFileResult[]): Record<IngestFileResult['status'], number> {
  const counts = { indexed: 0, unchanged: 0, failed: 0, removed: 0, skipped: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}
