// Settings → Local API server → Batches, the pure part: a batch's status in plain words, its
// progress, and what can be done with it. No I/O here.

import type { Batch, BatchStatus } from '../api/types';

export const BATCH_STATUS_TEXT: Record<BatchStatus, string> = {
  validating: 'Checking the file',
  in_progress: 'Running',
  finalizing: 'Writing the results',
  completed: 'Done',
  failed: 'Failed: the file has mistakes',
  cancelling: 'Stopping',
  cancelled: 'Cancelled',
  expired: 'Ran out of time (24 hours)',
};

const RUNNING: BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling'];

/** Still changing: the list polls while one is. */
export function batchRunning(batch: Pick<Batch, 'status'>): boolean {
  return RUNNING.includes(batch.status);
}

export function canCancel(batch: Pick<Batch, 'status'>): boolean {
  return batch.status === 'validating' || batch.status === 'in_progress';
}

/** Requests answered or refused so far, of all. */
export function batchDone(batch: Pick<Batch, 'request_counts'>): number {
  return batch.request_counts.completed + batch.request_counts.failed;
}

/** "12 of 20 requests (1 failed)". */
export function batchProgressText(batch: Pick<Batch, 'request_counts'>): string {
  const { total, failed } = batch.request_counts;
  const main = `${batchDone(batch).toLocaleString('en')} of ${total.toLocaleString('en')} request${total === 1 ? '' : 's'}`;
  return failed ? `${main} (${failed.toLocaleString('en')} failed)` : main;
}

/** A failed batch's first mistakes, each with its line: what to fix in the file. */
export function batchProblems(batch: Pick<Batch, 'errors'>, shown = 3): string[] {
  const errors = batch.errors?.data ?? [];
  const lines = errors.slice(0, shown).map((e) => (e.line === null ? e.message : `Line ${e.line}: ${e.message}`));
  if (errors.length > shown) lines.push(`and ${errors.length - shown} more`);
  return lines;
}

/** The name a downloaded results file is saved under. */
export function resultsFileName(batch: Pick<Batch, 'id'>, kind: 'output' | 'errors'): string {
  return `${batch.id}_${kind}.jsonl`;
}
